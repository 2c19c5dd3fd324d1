using System.Text.Json;

namespace Keygate.Kernel;

/// <summary>A feature permission's level (contract A8), in increasing order.</summary>
public enum Access { NONE, READ_ONLY, READ_WRITE }

/// <summary>
/// What one role allows (contract A8): its name and a level per feature. This is the one place that decides what an
/// org admin may do: the legacy routes, the portal and the key lifecycle ask <see cref="CanReadKeys"/>,
/// <see cref="CanChangeKeys"/>, <see cref="CanListAdmins"/> and <see cref="CanManageAdmins"/>, and the identity token
/// carries <see cref="Levels"/> to the upstream. Immutable: a role change publishes new rights with the org's snapshot.
/// </summary>
public sealed class AdminRights
{
    /// <summary>Every feature a role grants (A8's featurePermissions keys), in a fixed order.</summary>
    public static readonly string[] Features =
    [
        "APIKEY_MANAGEMENT", "EDGE_CONNECTOR_ADMIN_MANAGEMENT", "EDGE_CONNECTOR_CLOUD_PROVISIONING",
        "EDGE_CONNECTOR_LOCATION_MANAGEMENT", "EDGE_CONNECTOR_TEMPLATE", "EDGE_CONNECTOR_DASHBOARD",
        "EDGE_CONNECTOR_POLICY_CONFIGURATION", "EDGE_CONNECTOR_FORWARDING", "EDGE_CONNECTOR_NSS_CONFIGURATION",
    ];

    private const int ApiKeys = 0, Admins = 1;

    public const string SuperAdminName = "Super Admin";
    public const string ReadOnlyAdminName = "Read Only Admin";

    public long RoleId { get; }
    public string RoleName { get; }
    /// <summary>One level per entry of <see cref="Features"/>.</summary>
    public IReadOnlyList<Access> Levels => _levels;
    private readonly Access[] _levels;

    public AdminRights(long roleId, string roleName, Access[] levels)
    {
        if (levels.Length != Features.Length) throw new ArgumentException("One level per feature.", nameof(levels));
        (RoleId, RoleName, _levels) = (roleId, roleName, levels);
    }

    public static Access[] All(Access level) => Enumerable.Repeat(level, Features.Length).ToArray();

    /// <summary>The rights of the built-in Super Admin, e.g. for the provider side or a caller outside any org.</summary>
    public static readonly AdminRights Full = new(0, SuperAdminName, All(Access.READ_WRITE));

    /// <summary>Rights that allow nothing: an admin whose role could not be read.</summary>
    public static readonly AdminRights Nothing = new(0, "", All(Access.NONE));

    public Access Level(string feature) => Array.IndexOf(Features, feature) is var i and >= 0 ? _levels[i] : Access.NONE;

    /// <summary>Reading keys (values included) needs APIKEY_MANAGEMENT at least READ_ONLY.</summary>
    public bool CanReadKeys => _levels[ApiKeys] >= Access.READ_ONLY;
    /// <summary>Every key change (and the org's session settings) needs APIKEY_MANAGEMENT READ_WRITE.</summary>
    public bool CanChangeKeys => _levels[ApiKeys] == Access.READ_WRITE;
    public bool CanListAdmins => _levels[Admins] >= Access.READ_ONLY;
    /// <summary>Adding, changing and removing admins and roles needs EDGE_CONNECTOR_ADMIN_MANAGEMENT READ_WRITE.</summary>
    public bool CanManageAdmins => _levels[Admins] == Access.READ_WRITE;

    /// <summary>The stored form of a role's permissions: a JSON object of feature → level, every feature present.</summary>
    public static string Serialize(IReadOnlyList<Access> levels) =>
        JsonSerializer.Serialize(Features.Select((f, i) => (f, i)).ToDictionary(x => x.f, x => levels[x.i].ToString()));

    /// <summary>Reads the stored form; a feature missing from it (added after the role was saved) is NONE.</summary>
    public static Access[] Parse(string json)
    {
        var map = JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
        return Features.Select(f => map.TryGetValue(f, out var v) && Enum.TryParse<Access>(v, out var a) ? a : Access.NONE).ToArray();
    }
}
