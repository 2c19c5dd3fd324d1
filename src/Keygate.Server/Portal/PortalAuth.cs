using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Keygate.Portal;

/// <summary>Cookie authentication of the admin portal: HttpOnly, SameSite=Strict, 30 idle minutes.</summary>
public static class PortalAuth
{
    public const string Scheme = "portal";
    public const string OrgClaim = "keygate:org";

    public static IEnumerable<Claim> Claims(Account a) =>
    [
        new(ClaimTypes.NameIdentifier, a.Id.ToString()),
        new(ClaimTypes.Name, a.Username),
        new(ClaimTypes.Role, a.Role.ToString()),
        new(OrgClaim, a.OrganizationId?.ToString() ?? ""),
    ];

    public static Actor Actor(ClaimsPrincipal user, HttpContext http) =>
        new(ActorKind.OrgAdmin, long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!), user.Identity!.Name!, ClientAddress.Of(http))
        {
            OrganizationId = long.Parse(user.FindFirstValue(OrgClaim)!),
            Role = Enum.Parse<AdminRole>(user.FindFirstValue(ClaimTypes.Role)!),
        };

    public static IServiceCollection AddPortal(this IServiceCollection services)
    {
        services.AddAuthentication(Scheme).AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "keygate_portal";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromMinutes(30);
            o.SlidingExpiration = true;
            o.LoginPath = "/login";
            o.LogoutPath = "/logout";
            o.AccessDeniedPath = "/login";
        });
        services.AddAuthorization();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "keygate_af";
            o.Cookie.SameSite = SameSiteMode.Strict;
        });
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Portal/Pages";
            o.Conventions.AuthorizeFolder("/Admin");
        });
        return services;
    }
}
