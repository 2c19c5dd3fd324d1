using Keygate.Kernel;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Keygate.Ops;

/// <summary>
/// The OpenAPI document (/openapi/v1.json): what the endpoints' metadata cannot say (title, tags, security schemes)
/// and each operation's security from its <see cref="SecuredBy"/> metadata. scripts/lint-openapi.sh lints it in CI.
/// </summary>
public static class OpenApiDocs
{
    private static readonly Dictionary<string, string> Tags = new()
    {
        ["Legacy API"] = "The API the public SDKs and scripts use (contract A): a JSESSIONID session from an obfuscated-key login, errors as {code,message}.",
        ["Provider"] = "The operator's and service providers' API (contract B): bearer tokens, errors as RFC 9457 problem+json with a code.",
        ["Gateway"] = "The provider's own API behind Keygate (contract A7): every other /api/v1 call, checked and metered like a legacy call, "
            + "then forwarded with an identity token; and forward-auth for a proxy the provider keeps.",
    };

    public static IServiceCollection AddKeygateOpenApi(this IServiceCollection services) => services.AddOpenApi(o =>
    {
        o.AddDocumentTransformer((doc, _, _) => { Describe(doc); return Task.CompletedTask; });
        o.AddOperationTransformer(async (op, ctx, ct) => { Secure(op, ctx); DescribeResponses(op, ctx); await AddBodyAsync(op, ctx, ct); });
    });

    private static void Describe(OpenApiDocument doc)
    {
        doc.Info.Title = "Keygate";
        doc.Info.Description = "Self-hosted API-key manager: the legacy key API and Keygate's provider API.";
        foreach (var server in doc.Servers ?? []) server.Url = server.Url?.TrimEnd('/');
        doc.Components ??= new OpenApiComponents();
        doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        doc.Components.SecuritySchemes[ApiDocs.Session] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Cookie, Name = "JSESSIONID",
            Description = "The session cookie that POST /api/v1/auth sets.",
        };
        doc.Components.SecuritySchemes[ApiDocs.ProviderToken] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http, Scheme = "bearer",
            Description = "An operator (kgp_…) or service-provider (kgs_…) token.",
        };
        doc.Components.SecuritySchemes[ApiDocs.SandboxToken] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Query, Name = "api_token",
            Description = "The organization's sandbox submission key.",
        };
        doc.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Key, Description = t.Value }));
    }

    /// <summary>The generator names a response by its status only; ours say which codes it carries (<see cref="ApiDocs.Refuses"/>).</summary>
    private static void DescribeResponses(OpenApiOperation op, OpenApiOperationTransformerContext ctx)
    {
        foreach (var m in ctx.Description.ActionDescriptor.EndpointMetadata.OfType<IProducesResponseTypeMetadata>())
            if (m.Description is { } text && op.Responses?.TryGetValue(m.StatusCode.ToString(), out var response) == true)
                response.Description = text;
    }

    /// <summary>The body a hand-parsing route documents with <see cref="DocumentedBody"/>.</summary>
    private static async Task AddBodyAsync(OpenApiOperation op, OpenApiOperationTransformerContext ctx, CancellationToken ct)
    {
        if (op.RequestBody is not null || ctx.Description.ActionDescriptor.EndpointMetadata.OfType<DocumentedBody>().LastOrDefault() is not { } body) return;
        op.RequestBody = new OpenApiRequestBody
        {
            Required = !body.Optional,
            Content = new Dictionary<string, OpenApiMediaType> { [body.ContentType] = new() { Schema = await ctx.GetOrCreateSchemaAsync(body.Type, null, ct) } },
        };
    }

    /// <summary>The scheme the endpoint's metadata names (the most specific one); an optional or public one also allows no credentials.</summary>
    private static void Secure(OpenApiOperation op, OpenApiOperationTransformerContext ctx)
    {
        if (ctx.Description.ActionDescriptor.EndpointMetadata.OfType<SecuredBy>().LastOrDefault() is not { } secured) return;
        op.Security = [];
        if (secured.Scheme is { } scheme)
            op.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, ctx.Document)] = [] });
        if (secured.Scheme is null || secured.Optional) op.Security.Add(new OpenApiSecurityRequirement());
    }
}
