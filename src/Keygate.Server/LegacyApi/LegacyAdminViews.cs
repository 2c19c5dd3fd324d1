using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;

namespace Keygate.LegacyApi;

public sealed record LegacyRoleRef(long Id, string Name);

/// <summary>An admin user as contract A8 has it; the password is write-only.</summary>
public sealed record LegacyAdminUser(long Id, string LoginName, string UserName, string Email, LegacyRoleRef? Role, bool Disabled,
    bool IsPasswordExpired, long PwdLastModifiedTime, string Comments)
{
    public static LegacyAdminUser From(Account a, int passwordExpiryDays, long nowMs) =>
        new(a.Id, a.Username, a.DisplayName, a.Email, a.Role is { } r ? new LegacyRoleRef(r.Id, r.Name) : null, a.Disabled,
            a.PasswordMustChange || (passwordExpiryDays > 0 && a.PasswordChangedAtMs + passwordExpiryDays * 86_400_000L <= nowMs),
            a.PasswordChangedAtMs / 1000, a.Comments);
}

/// <summary>An admin role as contract A8 has it.</summary>
public sealed record LegacyAdminRole(long Id, string Name, int Rank, string RoleType, bool IsAuditor, bool IsNonEditable,
    Dictionary<string, string> FeaturePermissions)
{
    public static LegacyAdminRole From(Role r)
    {
        var levels = AdminRights.Parse(r.FeaturePermissions);
        return new(r.Id, r.Name, r.Rank, r.RoleType, r.IsAuditor, r.IsNonEditable,
            AdminRights.Features.Select((f, i) => (f, i)).ToDictionary(x => x.f, x => levels[x.i].ToString()));
    }
}

// The bodies below document the wire shape only; the routes parse by hand (role as an object or a name, unknown fields ignored).

/// <summary>POST/PUT /api/v1/adminUsers.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record LegacyAdminUserRequest(string? LoginName, string? UserName, string? Email,
    [property: Description("The role as {\"id\":…}, {\"id\":…,\"name\":…} or its name.")] LegacyRoleRef? Role,
    bool? Disabled, [property: Description("12 to 128 characters, not containing the login name; write-only.")] string? Password, string? Comments);

/// <summary>POST/PUT /api/v1/adminRoles.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record LegacyAdminRoleRequest(string? Name, int? Rank, string? RoleType, bool? IsAuditor,
    [property: Description("Feature → NONE, READ_ONLY or READ_WRITE; features left out of a new role are NONE.")] Dictionary<string, string>? FeaturePermissions);

/// <summary>POST /api/v1/passwordChange.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record LegacyPasswordChangeRequest(string UserName, string OldPassword, string NewPassword);

/// <summary>Reads the hand-parsed fields of the admin routes: absent or null is "not given", another JSON type is a 400.</summary>
public static class LegacyFields
{
    /// <summary>Reads a JSON object body (or none, then <paramref name="empty"/>) and parses its fields.</summary>
    public static async Task<Result<T>> ReadAsync<T>(HttpContext http, Func<JsonElement, Result<T>> parse, T empty)
    {
        var doc = await JsonBody.ReadObjectAsync(http.Request);
        if (doc.Error is { } e) return e;
        using var json = doc.Value;
        return json is null ? empty : parse(json.RootElement);
    }

    public static Result<string?> String(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? (string?)null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : KeygateError.Invalid(name, $"{name} must be a string.");

    public static Result<bool?> Bool(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? (bool?)null
        : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean()
        : KeygateError.Invalid(name, $"{name} must be true or false.");

    public static Result<int?> Int(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? (int?)null
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i
        : KeygateError.Invalid(name, $"{name} must be an integer.");

    /// <summary>role as {"id"}, {"id","name"}, {"name"} or a name (contract A8).</summary>
    public static Result<RoleRef?> Role(JsonElement root)
    {
        if (!root.TryGetProperty("role", out var v) || v.ValueKind == JsonValueKind.Null) return (RoleRef?)null;
        if (v.ValueKind == JsonValueKind.String) return new RoleRef(null, v.GetString());
        var invalid = KeygateError.Invalid("role", "role must be an object with id or name, or a role name.");
        if (v.ValueKind != JsonValueKind.Object) return invalid;
        long? id = v.TryGetProperty("id", out var i) && i.ValueKind != JsonValueKind.Null ? i.ValueKind == JsonValueKind.Number && i.TryGetInt64(out var n) ? n : -1 : null;
        string? name = v.TryGetProperty("name", out var s) && s.ValueKind != JsonValueKind.Null ? s.ValueKind == JsonValueKind.String ? s.GetString() : "" : null;
        if (id == -1 || name == "" || (id is null && name is null)) return invalid;
        return new RoleRef(id, name);
    }

    /// <summary>The admin fields of a body; the first field of a wrong type answers.</summary>
    public static Result<AdminInput> Admin(JsonElement root)
    {
        var (login, user, email, comments, password) = (String(root, "loginName"), String(root, "userName"), String(root, "email"),
            String(root, "comments"), String(root, "password"));
        var (disabled, role) = (Bool(root, "disabled"), Role(root));
        if (new[] { login.Error, user.Error, email.Error, comments.Error, disabled.Error, role.Error }.FirstOrDefault(e => e is not null) is { } e)
            return e;
        // A password that is not a string is no acceptable password (the policy's code, like A4's INVALID_KEY_VALUE).
        if (password.Error is not null) return KeygateError.InvalidPassword;
        return new AdminInput(login.Value, user.Value, email.Value, comments.Value, role.Value, disabled.Value, password.Value);
    }

    public static Result<RoleInput> RoleBody(JsonElement root)
    {
        var (name, type) = (String(root, "name"), String(root, "roleType"));
        var (rank, auditor) = (Int(root, "rank"), Bool(root, "isAuditor"));
        if (new[] { name.Error, type.Error, rank.Error, auditor.Error }.FirstOrDefault(e => e is not null) is { } e) return e;
        Dictionary<string, Access>? permissions = null;
        if (root.TryGetProperty("featurePermissions", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            var invalid = KeygateError.Invalid("featurePermissions", "featurePermissions must map features to NONE, READ_ONLY or READ_WRITE.");
            if (p.ValueKind != JsonValueKind.Object) return invalid;
            permissions = [];
            // Features Keygate does not know are ignored, like unknown fields (compatibility).
            foreach (var f in p.EnumerateObject())
            {
                if (f.Value.ValueKind != JsonValueKind.String || !Enum.TryParse<Access>(f.Value.GetString(), out var level) || !Enum.IsDefined(level)
                    || f.Value.GetString()!.Any(char.IsDigit))
                    return invalid;
                permissions[f.Name] = level;
            }
        }
        return new RoleInput(name.Value, rank.Value, type.Value, auditor.Value, permissions);
    }
}
