using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Organizations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Keygate.ProviderApi;

public sealed record AdminView(long Id, string Username, string Role, bool Disabled, bool PasswordMustChange, long CreatedAt)
{
    /// <summary>The built-in roles by the provider API's names (SUPER_ADMIN, READ_ONLY), a custom role by its own name.</summary>
    public static AdminView From(Account a) => new(a.Id, a.Username, RoleName(a.Role), a.Disabled, a.PasswordMustChange, a.CreatedAtMs / 1000);

    private static string RoleName(Role? role) => role?.Name switch
    {
        AdminRights.SuperAdminName => nameof(AdminRole.SUPER_ADMIN),
        AdminRights.ReadOnlyAdminName => nameof(AdminRole.READ_ONLY),
        var name => name ?? "",
    };
}
public sealed record PasswordReset(string TemporaryPassword);

/// <summary>An org over time (contract B): its admins and password resets, suspension and resume, and deletion.</summary>
public static class ProviderOrgLifecycleApi
{
    public static void MapProviderOrgLifecycle(this RouteGroupBuilder api)
    {
        api.MapGet("/organizations/{orgId}/admins", ListAdmins).WithName("ListAdmins").WithSummary("List an organization's admins")
            .Refuses(404, "RESOURCE_NOT_FOUND");
        api.MapPost("/organizations/{orgId}/admins/{adminId}/resetPassword", ResetPassword).WithName("ResetAdminPassword")
            .WithSummary("Give an admin a temporary password, shown once, that must be changed at the next login; their sessions end")
            .Refuses(404, "RESOURCE_NOT_FOUND").Refuses(413, "PAYLOAD_TOO_LARGE").Refuses(415, "UNSUPPORTED_MEDIA_TYPE").Refuses(400, "INVALID_INPUT_ARGUMENT");
        api.MapPost("/organizations/{orgId}/suspend", Suspend).WithName("SuspendOrganization")
            .WithSummary("Suspend an organization: every legacy request and login is refused ORG_SUSPENDED")
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "CONFLICT");
        api.MapPost("/organizations/{orgId}/resume", Resume).WithName("ResumeOrganization").WithSummary("Lift an organization's suspension")
            .Refuses(404, "RESOURCE_NOT_FOUND").Refuses(413, "PAYLOAD_TOO_LARGE").Refuses(415, "UNSUPPORTED_MEDIA_TYPE").Refuses(400, "INVALID_INPUT_ARGUMENT")
            .Refuses(409, "CONFLICT");
        api.MapDelete("/organizations/{orgId}", Delete).WithName("DeleteOrganization")
            .WithSummary("Delete a suspended organization and every secret of it; its audit log is kept")
            .Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "ORG_NOT_SUSPENDED", "CONFLICT");
    }

    private static async Task<Results<Ok<AdminView[]>, ProblemHttpResult>> ListAdmins(
        string orgId, ProviderCaller caller, AppDbContext db, OrgStateCache orgs, CancellationToken ct)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is not { } org) return ProviderApi.NotFound;
        var admins = await db.Accounts.AsNoTracking().Where(a => a.OrganizationId == org.OrgId && a.Kind == AccountKind.OrgAdmin)
            .Include(a => a.Role).OrderBy(a => a.Id).ToListAsync(ct);
        return TypedResults.Ok(admins.Select(AdminView.From).ToArray());
    }

    private static async Task<Results<Ok<PasswordReset>, ProblemHttpResult>> ResetPassword(
        string orgId, string adminId, HttpContext http, ProviderCaller caller, AdminDirectory admins, OrgStateCache orgs)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, http.RequestAborted) is not { } org || !long.TryParse(adminId, out var id))
            return ProviderApi.NotFound;
        if (await NoFieldsRefusal(http) is { } e) return ErrorResponses.Problem(e);
        var result = await admins.ResetPasswordAsync(caller.Actor, org.OrgId, id);
        return result.Error is { } err ? ErrorResponses.Problem(err) : TypedResults.Ok(new PasswordReset(result.Value!));
    }

    private static async Task<Results<Ok<OrganizationView>, ProblemHttpResult>> Suspend(
        string orgId, [FromBody] SuspendRequest req, ProviderCaller caller, KeyLifecycle lifecycle, OrgStateCache orgs, TimeProvider clock, CancellationToken ct)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is not { } org) return ProviderApi.NotFound;
        return ProviderOrganizationsApi.Render(await lifecycle.SetSuspendedAsync(caller.Actor, org.OrgId, true, req.Note), clock);
    }

    private static async Task<Results<Ok<OrganizationView>, ProblemHttpResult>> Resume(
        string orgId, HttpContext http, ProviderCaller caller, KeyLifecycle lifecycle, OrgStateCache orgs, TimeProvider clock)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, http.RequestAborted) is not { } org) return ProviderApi.NotFound;
        if (await NoFieldsRefusal(http) is { } e) return ErrorResponses.Problem(e);
        return ProviderOrganizationsApi.Render(await lifecycle.SetSuspendedAsync(caller.Actor, org.OrgId, false, null), clock);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string orgId, ProviderCaller caller, OrgDeletion deletion, OrgStateCache orgs, CancellationToken ct)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is not { } org) return ProviderApi.NotFound;
        return await deletion.DeleteAsync(caller.Actor, org.OrgId) is { } e ? ErrorResponses.Problem(e) : TypedResults.NoContent();
    }

    /// <summary>A route without fields takes no body, or an empty JSON object like any other request of ours.</summary>
    private static async Task<KeygateError?> NoFieldsRefusal(HttpContext http) =>
        JsonBody.HasBody(http.Request) ? (await JsonBody.ReadAsync<NoFields>(http.Request)).Error : null;
}
