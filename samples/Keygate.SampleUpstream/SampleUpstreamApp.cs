namespace Keygate.SampleUpstream;

/// <summary>Settings under "Upstream" (appsettings, environment "Upstream__Issuer", or "--Upstream:Issuer=…").</summary>
public sealed class UpstreamOptions
{
    /// <summary>Keygate's <c>Keygate:Gateway:Issuer</c> (by default its public base URL). Required.</summary>
    public string? Issuer { get; set; }
    /// <summary>Keygate's JWKS; by default <c>{Issuer}/.well-known/jwks.json</c>.</summary>
    public string? JwksUrl { get; set; }
    /// <summary>Keygate's <c>Keygate:Gateway:Audience</c>.</summary>
    public string Audience { get; set; } = "keygate-upstream";
    /// <summary>Plain-HTTP JWKS is accepted only from loopback unless this is false (e.g. on a private container network).</summary>
    public bool RequireHttpsJwks { get; set; } = true;
    /// <summary>Test-only endpoints under /_diag and /api/v1/_diag. Never in production.</summary>
    public bool Diagnostics { get; set; }
}

public static class SampleUpstreamApp
{
    /// <summary>
    /// The whole app, ready to run. Tests call this (not <c>Program</c>, which would clash with the server's) and may
    /// change the builder first, e.g. to add configuration or listen on <c>http://127.0.0.1:0</c>.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var options = builder.Configuration.GetSection("Upstream").Get<UpstreamOptions>() ?? new();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<OrgStore>();
        builder.Services.AddKeygateIdentityToken(options);
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<BearerSecurityScheme>());
        if (options.Diagnostics) builder.Services.AddSingleton<RequestRecorder>();

        var app = builder.Build();
        app.UseAuthentication();
        if (options.Diagnostics) app.UseRequestRecorder();
        app.UseAuthorization();

        app.MapGet("/healthz", () => TypedResults.Ok(new Health("ok"))).AllowAnonymous().ExcludeFromDescription();
        app.MapOpenApi().AllowAnonymous();
        // Everything under /api/v1 needs Keygate's identity token (the fallback policy); each resource also checks
        // the feature permission the token carries.
        var api = app.MapGroup("/api/v1");
        api.MapEcGroups();
        api.MapLocations();
        api.MapProvisioningUrls();
        api.MapLocationTemplates();
        if (options.Diagnostics) app.MapDiagnostics();
        return app;
    }
}

public sealed record Health(string Status);
