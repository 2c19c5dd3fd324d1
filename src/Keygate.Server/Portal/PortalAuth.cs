using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;
using Keygate.Keys;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;

namespace Keygate.Portal;

/// <summary>
/// One cookie scheme for the admin portal and the provider console: HttpOnly, SameSite=Strict, ended after
/// 30 idle minutes, 12 hours after the login whatever the activity (contract A2), or at logout. A kind claim tells org admins from staff, and the two areas' policies each
/// require their own kind, so neither can open the other's pages.
/// </summary>
public static class PortalAuth
{
    public const string Scheme = "portal";
    public const string OrgAdminPolicy = "orgAdmin";
    public const string StaffPolicy = "staff";
    public const string KindClaim = "keygate:kind";
    public const string OrgClaim = "keygate:org";
    public const string ServiceProviderClaim = "keygate:sp";
    public const string ServiceProviderNameClaim = "keygate:spName";
    public const string SessionClaim = "keygate:sid";
    /// <summary>The login's time (epoch ms): renewals issue new cookies, the absolute lifetime counts from this.</summary>
    public const string LoginAtClaim = "keygate:loginAt";
    /// <summary>A staff login's digest of its password hash: a new password ends the login's other cookies.</summary>
    public const string StampClaim = "keygate:stamp";
    /// <summary>An org admin's PasswordChangedAtMs at the login: a later change (of the password, anywhere) ends this login.</summary>
    public const string PasswordSetClaim = "keygate:pwdSet";
    public const string ConsoleHome = "/console";
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(12);

    public static ClaimsPrincipal Principal(Account a, string? serviceProviderName, long nowMs)
    {
        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, a.Id.ToString()),
            new(ClaimTypes.Name, a.Username),
            new(KindClaim, a.Kind.ToString()),
            // A random id per login, so that a logout can refuse this very cookie if it is replayed.
            new(SessionClaim, RandomNumberGenerator.GetHexString(32)),
            new(LoginAtClaim, nowMs.ToString(CultureInfo.InvariantCulture)),
        ];
        if (a.Kind == AccountKind.OrgAdmin)
        {
            claims.Add(new(OrgClaim, a.OrganizationId?.ToString() ?? ""));
            claims.Add(new(PasswordSetClaim, a.PasswordChangedAtMs.ToString(CultureInfo.InvariantCulture)));
        }
        else
        {
            claims.Add(new(StampClaim, Stamp(a.PasswordHash)));
            claims.Add(new(ServiceProviderClaim, a.ServiceProviderId?.ToString() ?? ""));
            claims.Add(new(ServiceProviderNameClaim, serviceProviderName ?? ""));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static string Stamp(string passwordHash) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(passwordHash)).AsSpan(0, 8));

    /// <summary>
    /// Is the staff login still as it was when the cookie was issued: there, not disabled, same password? One read per
    /// console request (staff are in no org snapshot), so a disabled, deleted or re-passworded login ends on every node at
    /// its next request. Org admins are checked against their org's snapshot instead (<see cref="AdminOfAsync"/>).
    /// </summary>
    private static async Task<bool> StaffStillValidAsync(ClaimsPrincipal user, IServiceProvider services)
    {
        if (!long.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id) || user.FindFirstValue(StampClaim) is not { } stamp) return false;
        var db = services.GetRequiredService<AppDbContext>();
        var account = await db.Accounts.AsNoTracking().Where(a => a.Id == id).Select(a => new { a.Disabled, a.PasswordHash }).FirstOrDefaultAsync();
        return account is { Disabled: false } && Stamp(account.PasswordHash) == stamp;
    }

    /// <summary>When the login was made; a cookie without it (issued before lifetimes existed) counts as over.</summary>
    public static long LoginAtMs(ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(LoginAtClaim), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? ms : long.MinValue;

    public static bool IsStaff(ClaimsPrincipal user) => user.FindFirstValue(KindClaim) == nameof(AccountKind.Staff);

    public static Actor Actor(ClaimsPrincipal user, HttpContext http) =>
        new(ActorKind.OrgAdmin, long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!), user.Identity!.Name!, ClientAddress.Of(http))
        {
            OrganizationId = long.Parse(user.FindFirstValue(OrgClaim)!),
            // The rights of the admin's role now, as the cookie check found them (a role change applies at the next request).
            Rights = (http.Items[typeof(AdminSnapshot)] as AdminSnapshot)?.Rights ?? AdminRights.Nothing,
        };

    /// <summary>
    /// An org admin's cookie works while the admin exists, is enabled and has the password this login was made with
    /// (contract A8: those end the admin's other sessions). Read from the org's snapshot, which every node keeps current.
    /// </summary>
    private static async Task<(AdminSnapshot Admin, OrgSnapshot Org)?> AdminOfAsync(ClaimsPrincipal user, IServiceProvider services)
    {
        if (!long.TryParse(user.FindFirstValue(OrgClaim), out var orgId) || !long.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id))
            return null;
        var org = await services.GetRequiredService<OrgStateCache>().GetAsync(orgId);
        // The password the login was made with, compared exactly: a clock of millisecond grain cannot order a login and a
        // change made in the same millisecond, and a cookie from before this claim existed counts as another password.
        return org?.ActiveAdmin(id) is { } admin && user.FindFirstValue(PasswordSetClaim) == admin.PasswordChangedAtMs.ToString(CultureInfo.InvariantCulture)
            ? (admin, org) : null;
    }

    /// <summary>
    /// Contract A8: an org admin whose password expired or was reset by the provider is asked for a new one before anything
    /// else. Set by the cookie check; <see cref="PasswordChangeGate"/> sends every other portal page there.
    /// </summary>
    public static bool MustChangePassword(HttpContext http) => http.Items[MustChangeKey] is true;
    private const string MustChangeKey = "keygate:mustChangePassword";

    /// <summary>The login's principal with the admin's new password time, so that their own password change keeps it open.</summary>
    public static ClaimsPrincipal WithPasswordSet(ClaimsPrincipal user, long passwordChangedAtMs)
    {
        var claims = user.Claims.Where(c => c.Type != PasswordSetClaim)
            .Append(new Claim(PasswordSetClaim, passwordChangedAtMs.ToString(CultureInfo.InvariantCulture)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    /// <summary>Staff act as their service provider (or the operator), exactly like that side's API token.</summary>
    public static Actor StaffActor(ClaimsPrincipal user, HttpContext http, string operatorName) =>
        long.TryParse(user.FindFirstValue(ServiceProviderClaim), out var spId)
            ? new Actor(ActorKind.ServiceProvider, 0, user.FindFirstValue(ServiceProviderNameClaim)!, ClientAddress.Of(http)) { ServiceProviderId = spId }
            : new Actor(ActorKind.Operator, 0, operatorName, ClientAddress.Of(http));

    public static IServiceCollection AddPortal(this IServiceCollection services, KeygateOptions options)
    {
        DataProtectionKeyEncryptor.Register(services, options);
        services.AddSingleton<PortalLogouts>();
        services.AddAuthentication(Scheme).AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "keygate_portal";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = IdleTimeout;
            o.SlidingExpiration = true;
            o.LoginPath = "/login";
            o.LogoutPath = "/logout";
            o.Events.OnRedirectToAccessDenied = ctx =>
            {
                ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
            o.Events.OnValidatePrincipal = async ctx =>
            {
                var services = ctx.HttpContext.RequestServices;
                // Only the portal's pages act for this login; elsewhere (the APIs) it is no one, so their requests
                // never wait on the logout check below.
                if (ctx.Principal is not { } user || !PortalHeaders.IsPortalPath(ctx.HttpContext.Request.Path)
                    || services.GetRequiredService<TimeProvider>().Now() - LoginAtMs(user) >= (long)MaxLifetime.TotalMilliseconds
                    || user.FindFirstValue(SessionClaim) is not { } sid
                    || await services.GetRequiredService<PortalLogouts>().IsLoggedOutAsync(sid))
                {
                    ctx.RejectPrincipal();
                    return;
                }
                // Staff are checked against their account row, org admins against their org's snapshot.
                (AdminSnapshot Admin, OrgSnapshot Org)? admin = null;
                if (IsStaff(user) ? !await StaffStillValidAsync(user, services) : (admin = await AdminOfAsync(user, services)) is null)
                {
                    ctx.RejectPrincipal();
                    return;
                }
                if (admin is var (a, org))
                {
                    ctx.HttpContext.Items[typeof(AdminSnapshot)] = a;
                    if (a.PasswordExpired(org.PasswordExpiryDays, services.GetRequiredService<TimeProvider>().Now())) ctx.HttpContext.Items[MustChangeKey] = true;
                }
                // Sliding expiration alone renews only past half-time, which would end an active session early;
                // renewing on every portal request makes it exactly 30 minutes after the last one.
                ctx.ShouldRenew = true;
            };
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(OrgAdminPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireClaim(KindClaim, nameof(AccountKind.OrgAdmin)))
            .AddPolicy(StaffPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireClaim(KindClaim, nameof(AccountKind.Staff)));
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "keygate_af";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // its default never marks it Secure, even over HTTPS
        });
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Portal/Pages";
            o.Conventions.AuthorizeFolder("/Admin", OrgAdminPolicy);
            o.Conventions.AuthorizeFolder("/Console", StaffPolicy);
        }).AddMvcOptions(o => o.Filters.Add(new PasswordChangeGate()));
        return services;
    }
}
