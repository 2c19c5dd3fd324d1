using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Keygate.ProviderApi;

/// <summary>Contract B: the operator's and service providers' API, behind bearer tokens.</summary>
public static class ProviderApi
{
    public static void MapProviderApi(this IEndpointRouteBuilder app)
    {
        var max = app.ServiceProvider.GetRequiredService<IOptions<KeygateOptions>>().Value.MaxJsonBodyBytes;
        var api = app.MapGroup(ProviderAuthentication.Prefix).WithTags("Provider")
            .WithMetadata(new RequestSizeLimitAttribute(max)) // a larger body is a 413 while the framework reads it
            .SecuredBy(ApiDocs.ProviderToken).Refuses(401, "UNAUTHORIZED");
        api.MapProviderAccounts();
        api.MapProviderTokens();
        api.MapProviderStaff();
        api.MapProviderOrganizations();
        api.MapProviderOrgLifecycle();
        api.MapProviderKeys();
        api.MapProviderAudit();
        api.MapProviderUsage();
        api.MapProviderWebhooks();
        api.MapProviderSigningKeys();
    }

    /// <summary>The org if it exists and the caller may see it; another provider's org is the same 404 as a missing one.</summary>
    public static async Task<OrgSnapshot?> FindOrgAsync(string orgId, ProviderCaller caller, OrgStateCache orgs, CancellationToken ct)
    {
        if (!long.TryParse(orgId, out var id)) return null;
        var org = await orgs.GetAsync(id, ct);
        return org is not null && caller.Actor.CanSee(org.OrgId, org.ServiceProviderId) ? org : null;
    }

    public static ProblemHttpResult NotFound => ErrorResponses.Problem(KeygateError.NotFound);

    /// <summary>The service provider a new org, staff login or token belongs to (<see cref="Accounts.Owners.ResolveAsync"/>).</summary>
    public static async Task<(long? Id, ProblemHttpResult? Refusal)> OwnerAsync(long? named, ProviderCaller caller, AppDbContext db)
    {
        var owner = await Accounts.Owners.ResolveAsync(db, caller.Actor, named);
        return owner.Error is { } e ? (null, ErrorResponses.Problem(e)) : (owner.Value, null);
    }
}
