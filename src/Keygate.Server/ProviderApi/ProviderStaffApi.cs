using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Keygate.ProviderApi;

/// <summary>PATCH /staff/{id}: what is left out keeps its value. The password rules are <see cref="Secrets.Passwords.Validate"/>'s.</summary>
public sealed record UpdateStaffRequest(bool? Disabled = null, string? Password = null);

public sealed record StaffView(long Id, string Username, long? ServiceProviderId, bool Disabled, long CreatedAt)
{
    public static StaffView From(Account a) => new(a.Id, a.Username, a.ServiceProviderId, a.Disabled, a.CreatedAtMs / 1000);
}

/// <summary>Console logins over time (contract B): list, disable, new password, delete. A service provider manages its own.</summary>
public static class ProviderStaffApi
{
    public static void MapProviderStaff(this RouteGroupBuilder api)
    {
        api.MapGet("/staff", List).WithName("ListStaff").WithSummary("List the provider console logins the caller may manage");
        api.MapPatch("/staff/{id}", Update).WithName("UpdateStaff")
            .WithSummary("Disable or enable a console login, or set its password; its console sessions end at their next request")
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND");
        api.MapDelete("/staff/{id}", Delete).WithName("DeleteStaff").WithSummary("Delete a console login; its console sessions end at their next request")
            .Refuses(404, "RESOURCE_NOT_FOUND");
    }

    private static async Task<Ok<StaffView[]>> List(ProviderCaller caller, AccountChanges accounts) =>
        TypedResults.Ok((await accounts.VisibleStaff(caller.Actor).AsNoTracking().OrderBy(a => a.Id).ToListAsync()).Select(StaffView.From).ToArray());

    private static async Task<Results<Ok<StaffView>, ProblemHttpResult>> Update(
        string id, [FromBody] UpdateStaffRequest req, ProviderCaller caller, AccountChanges accounts)
    {
        if (!long.TryParse(id, out var n)) return ProviderApi.NotFound;
        var result = await accounts.UpdateStaffAsync(caller.Actor, n, req.Disabled, req.Password);
        return result.Error is { } e ? ErrorResponses.Problem(e) : TypedResults.Ok(StaffView.From(result.Value!));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, ProviderCaller caller, AccountChanges accounts)
    {
        if (!long.TryParse(id, out var n)) return ProviderApi.NotFound;
        return await accounts.DeleteStaffAsync(caller.Actor, n) is { } e ? ErrorResponses.Problem(e) : TypedResults.NoContent();
    }
}
