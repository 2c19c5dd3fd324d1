namespace Keygate.Kernel;

/// <summary>The problem+json body of Keygate's own routes (contract C), as the OpenAPI document shows it.</summary>
/// <param name="Code">The stable UPPER_SNAKE code (the response's description lists the ones it can be).</param>
/// <param name="Errors">For INVALID_INPUT_ARGUMENT: messages per field, keyed by the field's JSON path.</param>
public sealed record KeygateProblem(string Type, string Title, int Status, string Detail, string Code, string TraceId,
    IDictionary<string, string[]>? Errors = null);

/// <summary>Which security scheme of the OpenAPI document an endpoint takes (Ops/OpenApiDocs applies it); none means public.</summary>
public sealed record SecuredBy(string? Scheme, bool Optional = false);

/// <summary>
/// A request body for the document only, for routes that read their body by hand. Unlike .Accepts&lt;T&gt;, it does not
/// take part in routing (IAcceptsMetadata would turn other content types away with a 415 before the handler's own checks).
/// </summary>
public sealed record DocumentedBody(Type Type, string ContentType, bool Optional = false);

/// <summary>OpenAPI metadata the surfaces put on their endpoints: error responses with their codes, and security.</summary>
public static class ApiDocs
{
    /// <summary>The JSESSIONID cookie of a legacy login (contract A2).</summary>
    public const string Session = "session";
    /// <summary>The provider API's bearer token (contract B).</summary>
    public const string ProviderToken = "providerToken";
    /// <summary>The sandbox submission key in the api_token query parameter (contract A6).</summary>
    public const string SandboxToken = "sandboxToken";

    /// <summary>An error response of Keygate's own routes: problem+json with one of these codes.</summary>
    public static TBuilder Refuses<TBuilder>(this TBuilder b, int status, params string[] codes) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(KeygateProblem), ["application/problem+json"]) { Description = Describe(codes) });

    /// <summary>An error response of the legacy routes: {code,message} with one of these codes.</summary>
    public static TBuilder RefusesLegacy<TBuilder>(this TBuilder b, int status, params string[] codes) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(LegacyError), ["application/json"]) { Description = Describe(codes) });

    public static TBuilder SecuredBy<TBuilder>(this TBuilder b, string scheme, bool optional = false) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new SecuredBy(scheme, optional));

    public static TBuilder DocumentsBody<T, TBuilder>(this TBuilder b, string contentType, bool optional = false) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new DocumentedBody(typeof(T), contentType, optional));

    /// <summary>Open to anyone: the document says so explicitly (an empty security requirement).</summary>
    public static TBuilder Public<TBuilder>(this TBuilder b) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new SecuredBy(null));

    /// <summary>The refusals of a JSON request body: unreadable or invalid, too large, not JSON.</summary>
    public static TBuilder RefusesBadBody<TBuilder>(this TBuilder b) where TBuilder : IEndpointConventionBuilder =>
        b.Refuses(400, "INVALID_INPUT_ARGUMENT").Refuses(413, "PAYLOAD_TOO_LARGE").Refuses(415, "UNSUPPORTED_MEDIA_TYPE");

    /// <summary>What a legacy session route can answer before its handler runs (SessionGate, contract A2/A5).</summary>
    public static TBuilder OnLegacySession<TBuilder>(this TBuilder b) where TBuilder : IEndpointConventionBuilder =>
        b.SecuredBy(Session).RefusesLegacy(401, "SESSION_NOT_VALID")
            .RefusesLegacy(403, "API_KEY_DISABLED", "API_SUBSCRIPTION_REQUIRED", "SUBSCRIPTION_EXPIRED", "ORG_SUSPENDED", "ACCESS_DENIED")
            .RefusesLegacy(429, "RATE_LIMIT_EXCEEDED");

    private static string Describe(string[] codes) => codes.Length == 0 ? "Refused." : "Refused with code " + string.Join(", ", codes) + ".";
}
