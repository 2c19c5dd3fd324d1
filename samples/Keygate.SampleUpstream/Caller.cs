using System.Reflection;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.SampleUpstream;

/// <summary>The body the legacy API's clients expect for every error.</summary>
public sealed record ApiError(string Code, string Message)
{
    public static JsonHttpResult<ApiError> NotFound() =>
        TypedResults.Json(new ApiError("RESOURCE_NOT_FOUND", "The resource does not exist."), statusCode: 404);

    public static JsonHttpResult<ApiError> Invalid(string message) =>
        TypedResults.Json(new ApiError("INVALID_INPUT_ARGUMENT", message), statusCode: 400);
}

/// <summary>An {id, name} reference, as the SDK models' "lastModUid", "location" and "provTemplate" are.</summary>
public sealed record IdName(long Id, string Name);

/// <summary>
/// Who calls, from the identity token alone. The org comes from the token's <c>org_id</c>, never from the
/// <c>X-Keygate-Org-Id</c> header, which is only a convenience for logs.
/// </summary>
public sealed record Caller(string OrgId, string AdminId, string LoginName, string Role, IReadOnlyDictionary<string, string> Permissions)
{
    public const string ReadOnly = "READ_ONLY";
    public const string ReadWrite = "READ_WRITE";

    public static Caller? From(ClaimsPrincipal user)
    {
        string? Claim(string type) => user.FindFirst(type)?.Value;
        if (Claim(Claims.Subject) is not { Length: > 0 } sub || Claim(Claims.OrgId) is not { Length: > 0 } org
            || Claim(Claims.TokenId) is not { Length: > 0 }) return null;
        return new Caller(org, sub, Claim(Claims.LoginName) ?? "", Claim(Claims.Role) ?? "", PermissionsOf(Claim(Claims.Permissions)));
    }

    /// <summary>Minimal APIs bind a <see cref="Caller"/> parameter through this; the token was validated before.</summary>
    public static ValueTask<Caller?> BindAsync(HttpContext http, ParameterInfo _) => ValueTask.FromResult(From(http.User));

    /// <summary>Reading needs the feature at READ_ONLY or READ_WRITE; changing it needs READ_WRITE (contract A8's levels).</summary>
    public bool May(string feature, bool write) =>
        Permissions.TryGetValue(feature, out var level) && (level == ReadWrite || (!write && level == ReadOnly));

    /// <summary>The SDK models' "lastModUid": the admin as Keygate knows them.</summary>
    public IdName Modifier => new(long.TryParse(AdminId, out var id) ? id : 0, LoginName);

    // "permissions" is the role's feature permissions as a JSON object: {"EDGE_CONNECTOR_TEMPLATE":"READ_WRITE",…}.
    private static Dictionary<string, string> PermissionsOf(string? json)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(json)) return result;
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return result;
            foreach (var p in doc.RootElement.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String) result[p.Name] = p.Value.GetString()!.ToUpperInvariant();
        }
        catch (JsonException) { } // no permissions: every resource answers 403
        return result;
    }
}

public static class FeaturePermission
{
    /// <summary>
    /// Refuses with 403 a caller whose token does not give the feature at the level the method needs:
    /// GET and HEAD read, everything else writes.
    /// </summary>
    public static RouteGroupBuilder RequireFeature(this RouteGroupBuilder group, string feature)
    {
        group.AddEndpointFilter(async (ctx, next) =>
        {
            var http = ctx.HttpContext;
            var write = !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method);
            if (Caller.From(http.User) is { } caller && caller.May(feature, write)) return await next(ctx);
            return TypedResults.Json(new ApiError("ACCESS_DENIED", $"This needs {feature} {(write ? Caller.ReadWrite : "READ_ONLY or READ_WRITE")}."), statusCode: 403);
        });
        return group;
    }
}
