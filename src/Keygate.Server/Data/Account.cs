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
    public AdminRole Role { get; set; }
    public long? OrganizationId { get; set; }
    /// <summary>For staff: null is the operator's own staff, else the service provider's.</summary>
    public long? ServiceProviderId { get; set; }
    public long CreatedAtMs { get; set; }
    /// <summary>A disabled account cannot log in, and its sessions end at their next request.</summary>
    public bool Disabled { get; set; }
    /// <summary>Set by a provider reset: the temporary password must be changed before anything else (contract A8).</summary>
    public bool PasswordMustChange { get; set; }

    public static string Normalize(string username) => username.Trim().ToUpperInvariant();

    /// <summary>This org admin as the actor of a change made from <paramref name="address"/>.</summary>
    public Actor AsActor(string address) =>
        new(ActorKind.OrgAdmin, Id, Username, address) { OrganizationId = OrganizationId, Role = Role };
}
