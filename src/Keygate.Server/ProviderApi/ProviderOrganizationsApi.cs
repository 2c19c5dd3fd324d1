using Keygate.Accounts;
using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Organizations;
using Keygate.Secrets;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Keygate.ProviderApi;

// The username and password rules are Passwords.Validate's, shared by every account (its errors name the field alone).
public sealed record AdminRequest([property: Required] string Username, [property: Required] string Password);
public sealed record CreateOrganizationRequest([property: Required, Name] string Name, [property: Required] AdminRequest Admin, long? ServiceProviderId = null);
public sealed record UpdateOrganizationRequest([property: Name] string? Name = null, [property: HttpUrl] string? BaseUrl = null, bool? EndSessionsOnKeyChange = null,
    [property: Range(0, 3650, ErrorMessage = "passwordExpiryDays must be 0 (never) to 3650.")] int? PasswordExpiryDays = null);
public sealed record CreateAdminRequest([property: Required] string Username, [property: Required] string Password,
    [property: EnumDataType(typeof(AdminRole), ErrorMessage = "role must be SUPER_ADMIN or READ_ONLY.")] AdminRole Role);
public sealed record AdminCreated(long Id, string Username, string Role, long OrganizationId);

public static class ProviderOrganizationsApi
{
    public static void MapProviderOrganizations(this RouteGroupBuilder api)
    {
        api.MapPost("/organizations", Create).WithName("CreateOrganization").WithSummary("Create an organization with its first admin")
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "USERNAME_TAKEN");
        api.MapGet("/organizations", List).WithName("ListOrganizations").WithSummary("List the organizations the caller may see, optionally by name");
        api.MapGet("/organizations/{orgId}", Get).WithName("GetOrganization").WithSummary("Read an organization")
            .Refuses(404, "RESOURCE_NOT_FOUND");
        api.MapPatch("/organizations/{orgId}", Update).WithName("UpdateOrganization").WithSummary("Change an organization's name, base URL, session policy or password expiry")
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "CONFLICT");
        api.MapPut("/organizations/{orgId}/subscription", SetSubscription).WithName("SetSubscription").WithSummary("Set an organization's API subscription")
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "CONFLICT");
        api.MapPut("/organizations/{orgId}/limits", SetLimits).WithName("SetLimits").WithSummary("Change an organization's limits; omitted parts keep their value")
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "CONFLICT");
        api.MapPost("/organizations/{orgId}/admins", CreateAdmin).WithName("CreateAdmin").WithSummary("Create an admin of an organization (audited in its log)")
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "USERNAME_TAKEN");
    }

    private static async Task<Results<Created<OrganizationView>, ProblemHttpResult>> Create(
        [FromBody] CreateOrganizationRequest req, ProviderCaller caller, AppDbContext db, Passwords passwords, OrgStateCache orgs, KeyVault vault,
        TimeProvider clock, IOptions<KeygateOptions> options)
    {
        if (Passwords.Validate(req.Admin.Username, req.Admin.Password) is { } invalid)
            return ErrorResponses.Problem(invalid);
        var (spId, notOwned) = await ProviderApi.OwnerAsync(req.ServiceProviderId, caller, db);
        if (notOwned is not null) return notOwned;

        var now = clock.Now();
        var org = new Organization { Name = req.Name.Trim(), ServiceProviderId = spId, BaseUrl = options.Value.DefaultBaseUrl, CreatedAtMs = now };
        await using var tx = await db.Database.BeginTransactionAsync();
        org.Roles.AddRange(Role.BuiltIns());
        db.Organizations.Add(org);
        await db.SaveChangesAsync();
        var admin = new Account
        {
            Kind = AccountKind.OrgAdmin, Username = req.Admin.Username.Trim(), NormalizedUsername = Account.Normalize(req.Admin.Username),
            PasswordHash = passwords.Hash(req.Admin.Password), Role = org.Roles.First(r => r.Name == AdminRights.SuperAdminName),
            OrganizationId = org.Id, CreatedAtMs = now, PasswordChangedAtMs = now,
        };
        db.AuditEvents.Add(AuditLog.Event(caller.Actor, org.Id, "organization.create", null, AuditLog.Success, now, $"name={org.Name}"));
        if (await AccountCreation.TryAddAsync(db, admin,
                AuditLog.Event(caller.Actor, org.Id, "admin.create", null, AuditLog.Success, now, $"username={admin.Username} role=SUPER_ADMIN")) is { } taken)
            return ErrorResponses.Problem(taken); // the transaction is rolled back with the org
        await tx.CommitAsync();
        var snapshot = OrgSnapshot.From(org, vault);
        await orgs.PublishEverywhereAsync(snapshot);
        return TypedResults.Created($"/provider/v1/organizations/{org.Id}", OrganizationView.From(snapshot, now));
    }

    private static async Task<Ok<OrganizationView[]>> List(string? search, ProviderCaller caller, AppDbContext db, OrgStateCache orgs, TimeProvider clock)
    {
        var now = clock.Now();
        return TypedResults.Ok((await OrganizationSearch.SearchAsync(db, orgs, caller.Actor, search)).Select(o => OrganizationView.From(o, now)).ToArray());
    }

    private static async Task<Results<Ok<OrganizationView>, ProblemHttpResult>> Get(string orgId, ProviderCaller caller, OrgStateCache orgs, TimeProvider clock, CancellationToken ct) =>
        await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is { } org ? TypedResults.Ok(OrganizationView.From(org, clock.Now())) : ProviderApi.NotFound;

    private static async Task<Results<Ok<OrganizationView>, ProblemHttpResult>> Update(
        string orgId, [FromBody] UpdateOrganizationRequest req, ProviderCaller caller, KeyLifecycle lifecycle, OrgStateCache orgs, TimeProvider clock, CancellationToken ct)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is not { } org) return ProviderApi.NotFound;
        var result = await lifecycle.UpdateOrganizationAsync(caller.Actor, org.OrgId, req.Name?.Trim(), req.BaseUrl, req.EndSessionsOnKeyChange, req.PasswordExpiryDays);
        return Render(result, clock);
    }

    private static async Task<Results<Ok<OrganizationView>, ProblemHttpResult>> SetSubscription(
        string orgId, [FromBody] SubscriptionRequest req, ProviderCaller caller, KeyLifecycle lifecycle, OrgStateCache orgs, TimeProvider clock, CancellationToken ct)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is not { } org) return ProviderApi.NotFound;
        var result = await lifecycle.SetSubscriptionAsync(caller.Actor, org.OrgId, req.Enabled, req.ExpiresAt);
        return Render(result, clock);
    }

    private static async Task<Results<Ok<LimitsView>, ProblemHttpResult>> SetLimits(
        string orgId, [FromBody] LimitsRequest req, ProviderCaller caller, KeyLifecycle lifecycle, OrgStateCache orgs, CancellationToken ct)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is not { } org) return ProviderApi.NotFound;
        var result = await lifecycle.SetLimitsAsync(caller.Actor, org.OrgId, req.ApplyTo);
        return result.Error is { } err ? ErrorResponses.Problem(err) : TypedResults.Ok(LimitsView.From(result.Value!.Limits));
    }

    private static async Task<Results<Created<AdminCreated>, ProblemHttpResult>> CreateAdmin(
        string orgId, [FromBody] CreateAdminRequest req, ProviderCaller caller, AdminDirectory directory, OrgStateCache orgs, CancellationToken ct)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is not { } org) return ProviderApi.NotFound;
        if (Passwords.Validate(req.Username, req.Password) is { } invalid) return ErrorResponses.Problem(invalid);
        // SUPER_ADMIN and READ_ONLY name the org's two built-in roles (contract B). Creating an admin gives the provider side
        // a way to the key, so the org sees it in its own audit log (the directory audits every change in the org's log).
        var result = await directory.AddAdminAsync(caller.Actor, org.OrgId,
            new AdminInput(LoginName: req.Username, Password: req.Password, Role: new RoleRef(null, Role.BuiltInName(req.Role))));
        return result.Error is { } err ? ErrorResponses.Problem(err)
            : TypedResults.Created($"/provider/v1/organizations/{org.OrgId}/admins/{result.Value!.Id}",
                new AdminCreated(result.Value.Id, result.Value.Username, req.Role.ToString(), org.OrgId));
    }

    internal static Results<Ok<OrganizationView>, ProblemHttpResult> Render(Result<OrgSnapshot> result, TimeProvider clock) =>
        result.Error is { } e ? ErrorResponses.Problem(e) : TypedResults.Ok(OrganizationView.From(result.Value!, clock.Now()));
}
