using Keygate.Kernel;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Keygate.Gateway;

/// <summary>
/// The gateway in Keygate's OpenAPI document (contract A7). Its routes are YARP's, configured at run time, so the
/// generator cannot see them: one documented operation per method on /api/v1/{path} says what Keygate adds to whatever
/// the upstream answers (its own refusals and the rate headers), and forward-auth gets the headers it answers.
/// The upstream's own operations are in its own document (the sample's is at its /openapi/v1.json).
/// </summary>
public static class GatewayApiDocs
{
    private const string Tag = "Gateway";
    private const string Path = "/api/v1/{path}";

    public static IServiceCollection AddGatewayApiDocs(this IServiceCollection services) =>
        services.Configure<OpenApiOptions>("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            Describe(doc);
            return Task.CompletedTask;
        }));

    private static readonly (HttpMethod Method, string Id, bool Body)[] Methods =
    [
        (HttpMethod.Get, "GatewayGet", false), (HttpMethod.Post, "GatewayPost", true), (HttpMethod.Put, "GatewayPut", true),
        (HttpMethod.Patch, "GatewayPatch", true), (HttpMethod.Delete, "GatewayDelete", false),
    ];

    private static void Describe(OpenApiDocument doc)
    {
        var item = new OpenApiPathItem
        {
            Summary = "Any other /api/v1 route, forwarded to the provider's upstream",
            Parameters =
            [
                new OpenApiParameter
                {
                    Name = "path", In = ParameterLocation.Path, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    Description = "The rest of the path, one or more segments (e.g. ecgroup, provUrl/7), with any query; forwarded as sent.",
                },
            ],
            Operations = [],
        };
        foreach (var (method, id, body) in Methods) item.Operations[method] = Operation(doc, method, id, body);
        doc.Paths[Path] = item;
        DescribeForwardAuth(doc);
    }

    private static OpenApiOperation Operation(OpenApiDocument doc, HttpMethod method, string id, bool body)
    {
        var op = new OpenApiOperation
        {
            OperationId = id,
            Tags = new HashSet<OpenApiTagReference> { new(Tag, doc) },
            Summary = $"{method} through the gateway to the provider's API",
            Description = "After the checks of every legacy call, in this order: cross-site, session, rate limit by the method's weight "
                + "(or the route's Keygate.Weight), call threshold, then the route (none: 404). The upstream receives the request as sent "
                + "minus Cookie, JSessionID, Authorization and X-Keygate-*, plus Authorization: Bearer <identity token> (ES256, keys at "
                + "/.well-known/jwks.json), X-Keygate-Org-Id, X-Keygate-Admin-Id, X-Forwarded-* and traceparent. Its answer is relayed as it "
                + "comes (minus Set-Cookie), bodies streamed both ways. Every such call counts against the org's threshold, whatever the answer.",
            Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiDocs.Session, doc)] = [] }],
            Responses = new OpenApiResponses
            {
                ["200"] = new OpenApiResponse
                {
                    Description = "The upstream's answer (any status), relayed.",
                    Headers = RateHeaders(),
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchema() } },
                },
                ["401"] = Refusal(doc, "SESSION_NOT_VALID"),
                ["403"] = Refusal(doc, "API_KEY_DISABLED", "API_SUBSCRIPTION_REQUIRED", "SUBSCRIPTION_EXPIRED", "ACCESS_DENIED"),
                ["404"] = Refusal(doc, "RESOURCE_NOT_FOUND", metered: true),
                ["429"] = Refusal(doc, "RATE_LIMIT_EXCEEDED", metered: true, retryAfter: true),
                ["502"] = Refusal(doc, "UPSTREAM_UNAVAILABLE", metered: true),
                ["504"] = Refusal(doc, "UPSTREAM_TIMEOUT", metered: true),
            },
        };
        if (body)
        {
            op.RequestBody = new OpenApiRequestBody
            {
                Description = "Forwarded as sent, streamed; at most Keygate:Gateway:MaxRequestBytes (10 MiB by default).",
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchema() } },
            };
            op.Responses["413"] = Refusal(doc, "REQUEST_TOO_LARGE", metered: true);
            op.Responses["415"] = Refusal(doc, "UNSUPPORTED_MEDIA_TYPE");
        }
        return op;
    }

    /// <summary>Forward-auth's answer: the headers the provider's proxy passes on to its upstream.</summary>
    private static void DescribeForwardAuth(OpenApiDocument doc)
    {
        if (doc.Paths.TryGetValue("/gateway/v1/authorize", out var item) is false || item.Operations?.GetValueOrDefault(HttpMethod.Get) is not { } op) return;
        op.Parameters ??= [];
        foreach (var (name, what) in new[]
        {
            ("X-Original-Method", "The original request's method (or X-Forwarded-Method); GET when absent."),
            ("X-Original-URI", "The original request's path and query (or X-Forwarded-Uri). Required."),
        })
            op.Parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Header, Description = what, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
        if (op.Responses?.GetValueOrDefault("200") is OpenApiResponse ok)
        {
            ok.Description = "Allowed: pass these headers on to the upstream.";
            ok.Headers = RateHeaders();
            ok.Headers["Authorization"] = Header("Bearer <identity token>, the ES256 JWT the upstream validates.", JsonSchemaType.String);
            ok.Headers["X-Keygate-Org-Id"] = Header("The caller's organization.", JsonSchemaType.Integer);
            ok.Headers["X-Keygate-Admin-Id"] = Header("The caller's admin account.", JsonSchemaType.Integer);
        }
        if (op.Responses?.GetValueOrDefault("429") is OpenApiResponse limited)
        {
            limited.Headers = RateHeaders();
            limited.Headers["Retry-After"] = Header("Whole seconds until the window ends (at least 1).", JsonSchemaType.Integer);
        }
    }

    private static OpenApiResponse Refusal(OpenApiDocument doc, string code, bool metered = false, bool retryAfter = false) =>
        Refusal(doc, [code], metered, retryAfter);

    private static OpenApiResponse Refusal(OpenApiDocument doc, params string[] codes) => Refusal(doc, codes, false, false);

    private static OpenApiResponse Refusal(OpenApiDocument doc, string[] codes, bool metered, bool retryAfter)
    {
        var response = new OpenApiResponse
        {
            Description = "Refused with code " + string.Join(", ", codes) + ".",
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchemaReference(nameof(LegacyError), doc) } },
        };
        if (metered) response.Headers = RateHeaders();
        if (retryAfter) response.Headers!["Retry-After"] = Header("Whole seconds until the window ends (at least 1).", JsonSchemaType.Integer);
        return response;
    }

    /// <summary>Contract A5: the rate window of the call's weight with the fewest calls left.</summary>
    private static Dictionary<string, IOpenApiHeader> RateHeaders() => new()
    {
        ["X-RateLimit-Limit"] = Header("Calls allowed in the window with the fewest calls left.", JsonSchemaType.Integer),
        ["X-RateLimit-Remaining"] = Header("Calls left in that window.", JsonSchemaType.Integer),
        ["X-RateLimit-Reset"] = Header("Whole seconds until that window ends.", JsonSchemaType.Integer),
    };

    private static OpenApiHeader Header(string description, JsonSchemaType type) =>
        new() { Description = description, Schema = new OpenApiSchema { Type = type } };
}
