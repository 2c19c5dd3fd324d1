namespace Keygate.Kernel;

public enum ActorKind { OrgAdmin, Operator, ServiceProvider, Keygate }

/// <summary>The provider API's names of the two built-in roles (contract B): SUPER_ADMIN is "Super Admin", READ_ONLY "Read Only Admin".</summary>
public enum AdminRole { SUPER_ADMIN, READ_ONLY }

/// <summary>Who asks for a change; every lifecycle method checks its rights against the org in question.</summary>
public sealed record Actor(ActorKind Kind, long Id, string Name, string ClientAddress)
{
    public long? OrganizationId { get; init; }
    public long? ServiceProviderId { get; init; }
    /// <summary>An org admin's rights, from their role as the org's snapshot has it; ignored for the other kinds.</summary>
    public AdminRights Rights { get; init; } = AdminRights.Full;

    public static Actor System => new(ActorKind.Keygate, 0, "Keygate", "");

    public bool IsProviderSide => Kind is ActorKind.Operator or ActorKind.ServiceProvider;

    /// <summary>Tenancy: an org the actor may not see is answered exactly like one that does not exist.</summary>
    public bool CanSee(long orgId, long? orgServiceProviderId) => Kind switch
    {
        ActorKind.OrgAdmin => OrganizationId == orgId,
        ActorKind.ServiceProvider => orgServiceProviderId == ServiceProviderId,
        _ => true,
    };

    /// <summary>The form written into audit events: kind, id and name, never a secret.</summary>
    public string AuditName => Kind switch
    {
        ActorKind.OrgAdmin => $"admin:{Id}:{Name}",
        ActorKind.ServiceProvider => $"serviceProvider:{ServiceProviderId}:{Name}",
        ActorKind.Operator => $"operator:{Name}",
        _ => "keygate",
    };

    /// <summary>lastModifiedBy of contract A3: the admin, or id 0 for the provider side and Keygate.</summary>
    public (long Id, string Name) ModifiedBy => Kind == ActorKind.OrgAdmin ? (Id, Name) : (0, Name);
}
