using Keygate.Kernel;

namespace Keygate.Data;

/// <summary>
/// An admin role of one org (contract A8): a name and a level per feature. Every org has the two built-in,
/// non-editable roles; its admins may add their own.
/// </summary>
public sealed class Role
{
    public long Id { get; set; }
    public long OrganizationId { get; set; }
    public required string Name { get; set; }
    public int Rank { get; set; } = 7;
    public string RoleType { get; set; } = "EDGE_CONNECTOR_ADMIN";
    public bool IsAuditor { get; set; }
    public bool IsNonEditable { get; set; }
    /// <summary>Feature → level as a JSON object (<see cref="AdminRights.Serialize"/>).</summary>
    public string FeaturePermissions { get; set; } = "{}";

    public AdminRights Rights() => new(Id, Name, AdminRights.Parse(FeaturePermissions));

    /// <summary>The two built-in roles of a new org; the provider API's SUPER_ADMIN and READ_ONLY name them.</summary>
    public static Role[] BuiltIns() =>
    [
        new() { Name = AdminRights.SuperAdminName, IsNonEditable = true, FeaturePermissions = AdminRights.Serialize(AdminRights.All(Access.READ_WRITE)) },
        new() { Name = AdminRights.ReadOnlyAdminName, IsNonEditable = true, FeaturePermissions = AdminRights.Serialize(AdminRights.All(Access.READ_ONLY)) },
    ];

    public static string BuiltInName(AdminRole role) => role == AdminRole.SUPER_ADMIN ? AdminRights.SuperAdminName : AdminRights.ReadOnlyAdminName;
}
