using Keygate.Kernel;

namespace Keygate.Data;

public enum AccountKind { OrgAdmin, Staff }

/// <summary>
/// A person who logs in with a username and password: an org admin (legacy API and portal) or a provider
/// staff member (provider console). One table so that usernames are unique across both, case-insensitively.
/// </summary>
public sealed class Account
{
    public long Id { get; set; }
    public AccountKind Kind { get; set; }
    public required string Username { get; set; }
    /// <summary>Upper-invariant username; the unique index lives here.</summary>
    public required string NormalizedUsername { get; set; }
    public required string PasswordHash { get; set; }
    /// <summary>An org admin's role (contract A8); null for staff.</summary>
    public long? RoleId { get; set; }
    public Role? Role { get; set; }
    /// <summary>A disabled account (admin or staff) cannot log in, and its sessions end at their next request.</summary>
    public bool Disabled { get; set; }
    /// <summary>The legacy API's userName: a display name, not the login name.</summary>
    public string DisplayName { get; set; } = "";
    public string Email { get; set; } = "";
    public string Comments { get; set; } = "";
    /// <summary>When the password was last set (epoch ms); per-org password expiry counts from here.</summary>
    public long PasswordChangedAtMs { get; set; }
    /// <summary>Set by a provider reset: the temporary password must be changed before the legacy login works again.</summary>
    public bool PasswordMustChange { get; set; }
    public long? OrganizationId { get; set; }
    /// <summary>For staff: null is the operator's own staff, else the service provider's.</summary>
    public long? ServiceProviderId { get; set; }
    public long CreatedAtMs { get; set; }

    public static string Normalize(string username) => username.Trim().ToUpperInvariant();

    /// <summary>This org admin as the actor of a change made from <paramref name="address"/>.</summary>
    public Actor AsActor(string address, AdminRights rights) =>
        new(ActorKind.OrgAdmin, Id, Username, address) { OrganizationId = OrganizationId, Rights = rights };
}
