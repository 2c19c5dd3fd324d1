using Keygate.Accounts;
using Keygate.Kernel;
using Keygate.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.LegacyApi;

/// <summary>
/// Admin users of contract A8 on a legacy session (checked and metered like A4). The rules live in <see cref="AdminDirectory"/>;
/// this file reads the wire shape and renders its answers.
/// </summary>
public static class LegacyAdminsApi
{
    public const int MaxPageSize = 1000;

    public static void MapLegacyAdmins(this RouteGroupBuilder legacy)
    {
        var api = legacy.MapGroup("/api/v1").AddEndpointFilterFactory(LegacySessionFilter.Factory).OnLegacySession();
        api.MapGet("/adminUsers", List).WithName("ListAdminUsers").WithSummary("List the organization's admins (search, page, pageSize)")
            .RefusesLegacy(400, "INVALID_INPUT_ARGUMENT");
        api.MapGet("/adminUsers/{adminId}", Get).WithName("GetAdminUser").WithSummary("Read one admin").RefusesLegacy(404, "RESOURCE_NOT_FOUND");
        api.MapPost("/adminUsers", Add).WithName("AddAdminUser").WithSummary("Add an admin")
            .DocumentsBody<LegacyAdminUserRequest, RouteHandlerBuilder>("application/json")
            .RefusesLegacy(400, "INVALID_INPUT_ARGUMENT", "INVALID_PASSWORD").RefusesLegacy(409, "USERNAME_TAKEN").LegacyBodyDocs();
        api.MapPut("/adminUsers/{adminId}", Update).WithName("UpdateAdminUser").WithSummary("Change an admin: names, role, disabled, password")
            .DocumentsBody<LegacyAdminUserRequest, RouteHandlerBuilder>("application/json")
            .RefusesLegacy(400, "INVALID_INPUT_ARGUMENT", "INVALID_PASSWORD").RefusesLegacy(404, "RESOURCE_NOT_FOUND")
            .RefusesLegacy(409, "USERNAME_TAKEN", "LAST_SUPER_ADMIN", "CANNOT_CHANGE_OWN_ACCOUNT").LegacyBodyDocs();
        api.MapDelete("/adminUsers/{adminId}", Delete).AddEndpointFilter<NoFieldsBodyFilter>().WithName("DeleteAdminUser").WithSummary("Delete an admin")
            .RefusesLegacy(404, "RESOURCE_NOT_FOUND").RefusesLegacy(409, "LAST_SUPER_ADMIN", "CANNOT_CHANGE_OWN_ACCOUNT").LegacyBodyDocs();
    }

    private static async Task<Results<Ok<LegacyAdminUser[]>, JsonHttpResult<LegacyError>>> List(
        string? search, string? page, string? pageSize, HttpContext http, LegacyCaller caller, AdminDirectory directory, TimeProvider clock)
    {
        var result = await directory.ListAdminsAsync(caller.Actor(http), caller.Org.OrgId, search);
        if (result.Error is { } e) return ErrorResponses.Legacy(e);
        if (Paging(page, pageSize) is not var (number, size)) return ErrorResponses.Legacy(KeygateError.Invalid($"page must be 1 or more and pageSize 1 to {MaxPageSize}."));
        var now = clock.Now();
        return TypedResults.Ok(result.Value!.Skip((int)Math.Min(int.MaxValue, (number - 1L) * size)).Take(size)
            .Select(a => LegacyAdminUser.From(a, caller.Org.PasswordExpiryDays, now)).ToArray());
    }

    /// <summary>page is 1-based; a missing pageSize lists everything (the public SDKs page only when asked to).</summary>
    private static (int Page, int Size)? Paging(string? page, string? pageSize)
    {
        var number = 1;
        var size = MaxPageSize;
        if (!string.IsNullOrEmpty(page) && (!int.TryParse(page, out number) || number < 1)) return null;
        if (!string.IsNullOrEmpty(pageSize) && (!int.TryParse(pageSize, out size) || size is < 1 or > MaxPageSize)) return null;
        return (number, size);
    }

    private static async Task<Results<Ok<LegacyAdminUser>, JsonHttpResult<LegacyError>>> Get(
        string adminId, HttpContext http, LegacyCaller caller, AdminDirectory directory, TimeProvider clock)
    {
        if (!long.TryParse(adminId, out var id)) return ErrorResponses.Legacy(KeygateError.NotFound);
        var result = await directory.GetAdminAsync(caller.Actor(http), caller.Org.OrgId, id);
        return result.Error is { } e ? ErrorResponses.Legacy(e) : TypedResults.Ok(LegacyAdminUser.From(result.Value!, caller.Org.PasswordExpiryDays, clock.Now()));
    }

    private static async Task<Results<Created<LegacyAdminUser>, JsonHttpResult<LegacyError>>> Add(
        HttpContext http, LegacyCaller caller, AdminDirectory directory, TimeProvider clock)
    {
        var input = await LegacyFields.ReadAsync(http, LegacyFields.Admin, new AdminInput());
        if (input.Error is { } bad) return ErrorResponses.Legacy(bad);
        var result = await directory.AddAdminAsync(caller.Actor(http), caller.Org.OrgId, input.Value!);
        return result.Error is { } e ? ErrorResponses.Legacy(e)
            : TypedResults.Created($"/api/v1/adminUsers/{result.Value!.Id}", LegacyAdminUser.From(result.Value, caller.Org.PasswordExpiryDays, clock.Now()));
    }

    private static async Task<Results<Ok<LegacyAdminUser>, JsonHttpResult<LegacyError>>> Update(
        string adminId, HttpContext http, LegacyCaller caller, AdminDirectory directory, TimeProvider clock)
    {
        var input = await LegacyFields.ReadAsync(http, LegacyFields.Admin, new AdminInput());
        if (input.Error is { } bad) return ErrorResponses.Legacy(bad);
        if (!long.TryParse(adminId, out var id)) return ErrorResponses.Legacy(KeygateError.NotFound);
        var result = await directory.UpdateAdminAsync(caller.Actor(http), caller.Org.OrgId, id, input.Value!, caller.Session.IdHash);
        return result.Error is { } e ? ErrorResponses.Legacy(e) : TypedResults.Ok(LegacyAdminUser.From(result.Value!, caller.Org.PasswordExpiryDays, clock.Now()));
    }

    private static async Task<Results<NoContent, JsonHttpResult<LegacyError>>> Delete(string adminId, HttpContext http, LegacyCaller caller, AdminDirectory directory)
    {
        if (!long.TryParse(adminId, out var id)) return ErrorResponses.Legacy(KeygateError.NotFound);
        return await directory.DeleteAdminAsync(caller.Actor(http), caller.Org.OrgId, id) is { } e ? ErrorResponses.Legacy(e) : TypedResults.NoContent();
    }
}
