using Microsoft.Extensions.Options;

namespace Keygate.Kernel;

/// <summary>When cookies get their Secure attribute (Keygate:SecureCookies).</summary>
public enum SecureCookies
{
    /// <summary>Secure when the request came over HTTPS, directly or through a listed proxy; plain-HTTP local use keeps working.</summary>
    SameAsRequest,
    /// <summary>Always Secure: for deployments that are reached over HTTPS only (the deployment guide sets it).</summary>
    Always,
}

/// <summary>What HTTPS changes in Keygate's answers: Secure cookies and HSTS.</summary>
public static class Https
{
    /// <summary>A year, without includeSubDomains: Keygate cannot know what else runs under its parent domain.</summary>
    public const string StrictTransportSecurity = "max-age=31536000";

    /// <summary>Whether a cookie set on this answer is Secure. Behind a listed proxy IsHttps follows its X-Forwarded-Proto.</summary>
    public static bool SecureCookie(HttpContext http) =>
        http.Request.IsHttps || http.RequestServices.GetRequiredService<IOptions<KeygateOptions>>().Value.SecureCookies == SecureCookies.Always;

    /// <summary>
    /// HSTS on every answer served over HTTPS (directly or through a listed proxy), never over plain HTTP, where a
    /// browser ignores it anyway; added when the answer starts, so error pages written later carry it too. With
    /// SecureCookies=Always every cookie the framework sets (portal sign-in, antiforgery) is made Secure here; their
    /// own options stay SameAsRequest, since antiforgery set to Always refuses to work over HTTP at all.
    /// </summary>
    private static Task AddHsts(object response)
    {
        ((HttpResponse)response).Headers.StrictTransportSecurity = StrictTransportSecurity;
        return Task.CompletedTask;
    }

    public static void UseKeygateHttps(this WebApplication app, KeygateOptions o)
    {
        app.Use((ctx, next) =>
        {
            // The state overload: a lambda capturing ctx would cost every request a closure, HTTPS or not.
            if (ctx.Request.IsHttps) ctx.Response.OnStarting(AddHsts, ctx.Response);
            return next(ctx);
        });
        if (o.SecureCookies == SecureCookies.Always) app.UseCookiePolicy(new CookiePolicyOptions { Secure = CookieSecurePolicy.Always });
    }
}
