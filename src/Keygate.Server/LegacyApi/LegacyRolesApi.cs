using Keygate.Accounts;
using Keygate.Kernel;
using Keygate.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.LegacyApi;

/// <summary>Admin roles of contract A8 on a legacy session; the rules live in <see cref="AdminDirectory"/>.</summary>
public static class LegacyRolesApi
{
    public static void MapLegacyRoles(this RouteGroupBuilder legacy)
    {
        var api = legacy.MapGroup("/api/v1").AddEndpointFilterFactory(LegacySessionFilter.Factory).OnLegacySession();
        api.MapGet("/adminRoles", List).WithName("ListAdminRoles").WithSummary("List the organization's admin roles with their feature permissions");
        api.MapGet("/adminRoles/{roleId}", Get).WithName("GetAdminRole").WithSummary("Read one admin role").RefusesLegacy(404, "RESOURCE_NOT_FOUND");
        api.MapPost("/adminRoles", Add).WithName("AddAdminRole").WithSummary("Add a role")
            .DocumentsBody<LegacyAdminRoleRequest, RouteHandlerBuilder>("application/json").RefusesLegacy(400, "INVALID_INPUT_ARGUMENT").LegacyBodyDocs();
        api.MapPut("/adminRoles/{roleId}", Update).WithName("UpdateAdminRole").WithSummary("Change a role (not a built-in one)")
            .DocumentsBody<LegacyAdminRoleRequest, RouteHandlerBuilder>("application/json").RefusesLegacy(400, "INVALID_INPUT_ARGUMENT")
            .RefusesLegacy(404, "RESOURCE_NOT_FOUND").RefusesLegacy(409, "LAST_SUPER_ADMIN").LegacyBodyDocs();
        api.MapDelete("/adminRoles/{roleId}", Delete).AddEndpointFilter<NoFieldsBodyFilter>().WithName("DeleteAdminRole").WithSummary("Delete a role no admin has")
            .RefusesLegacy(404, "RESOURCE_NOT_FOUND").RefusesLegacy(409, "ROLE_IN_USE").LegacyBodyDocs();
    }

    private static async Task<Results<Ok<LegacyAdminRole[]>, JsonHttpResult<LegacyError>>> List(HttpContext http, LegacyCaller caller, AdminDirectory directory)
    {
        var result = await directory.ListRolesAsync(caller.Actor(http), caller.Org.OrgId);
        return result.Error is { } e ? ErrorResponses.Legacy(e) : TypedResults.Ok(result.Value!.Select(LegacyAdminRole.From).ToArray());
    }

    private static async Task<Results<Ok<LegacyAdminRole>, JsonHttpResult<LegacyError>>> Get(string roleId, HttpContext http, LegacyCaller caller, AdminDirectory directory)
    {
        if (!long.TryParse(roleId, out var id)) return ErrorResponses.Legacy(KeygateError.NotFound);
        var result = await directory.GetRoleAsync(caller.Actor(http), caller.Org.OrgId, id);
        return result.Error is { } e ? ErrorResponses.Legacy(e) : TypedResults.Ok(LegacyAdminRole.From(result.Value!));
    }

    private static async Task<Results<Created<LegacyAdminRole>, JsonHttpResult<LegacyError>>> Add(HttpContext http, LegacyCaller caller, AdminDirectory directory)
    {
        var input = await LegacyFields.ReadAsync(http, LegacyFields.RoleBody, new RoleInput());
        if (input.Error is { } bad) return ErrorResponses.Legacy(bad);
        var result = await directory.AddRoleAsync(caller.Actor(http), caller.Org.OrgId, input.Value!);
        return result.Error is { } e ? ErrorResponses.Legacy(e) : TypedResults.Created($"/api/v1/adminRoles/{result.Value!.Id}", LegacyAdminRole.From(result.Value));
    }

    private static async Task<Results<Ok<LegacyAdminRole>, JsonHttpResult<LegacyError>>> Update(string roleId, HttpContext http, LegacyCaller caller, AdminDirectory directory)
    {
        var input = await LegacyFields.ReadAsync(http, LegacyFields.RoleBody, new RoleInput());
        if (input.Error is { } bad) return ErrorResponses.Legacy(bad);
        if (!long.TryParse(roleId, out var id)) return ErrorResponses.Legacy(KeygateError.NotFound);
        var result = await directory.UpdateRoleAsync(caller.Actor(http), caller.Org.OrgId, id, input.Value!);
        return result.Error is { } e ? ErrorResponses.Legacy(e) : TypedResults.Ok(LegacyAdminRole.From(result.Value!));
    }

    private static async Task<Results<NoContent, JsonHttpResult<LegacyError>>> Delete(string roleId, HttpContext http, LegacyCaller caller, AdminDirectory directory)
    {
        if (!long.TryParse(roleId, out var id)) return ErrorResponses.Legacy(KeygateError.NotFound);
        return await directory.DeleteRoleAsync(caller.Actor(http), caller.Org.OrgId, id) is { } e ? ErrorResponses.Legacy(e) : TypedResults.NoContent();
    }
}
