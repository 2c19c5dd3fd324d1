using Keygate.Kernel;

namespace Keygate.Identity;

/// <summary>
/// What a role is called and which feature permissions it grants (contract A8), as the identity token tells the
/// upstream. Today's admins have one of two built-in roles; the accounts feature's custom roles replace this one
/// place when they come.
/// </summary>
public static class AdminRights
{
    /// <summary>Every feature the token carries (A8's featurePermissions keys).</summary>
    public static readonly string[] Features =
    [
        "APIKEY_MANAGEMENT", "EDGE_CONNECTOR_ADMIN_MANAGEMENT", "EDGE_CONNECTOR_CLOUD_PROVISIONING",
        "EDGE_CONNECTOR_LOCATION_MANAGEMENT", "EDGE_CONNECTOR_TEMPLATE", "EDGE_CONNECTOR_DASHBOARD",
        "EDGE_CONNECTOR_POLICY_CONFIGURATION", "EDGE_CONNECTOR_FORWARDING", "EDGE_CONNECTOR_NSS_CONFIGURATION",
    ];

    public static string RoleName(AdminRole role) => role == AdminRole.SUPER_ADMIN ? "Super Admin" : "Read Only Admin";

    /// <summary>Super Admin has every feature READ_WRITE, Read Only Admin every feature READ_ONLY.</summary>
    public static string Level(AdminRole role, string feature) => role == AdminRole.SUPER_ADMIN ? "READ_WRITE" : "READ_ONLY";
}
