namespace Keygate.SampleUpstream;

/// <summary>A Cloud or Branch Connector group, with the SDK's field names (zscaler/ztw/models/ecgroup.py).</summary>
public sealed record EcGroup(long Id, string Name, string Desc, string DeployType, string[] Status, string Platform,
    string? AwsAvailabilityZone, string? AzureAvailabilityZone, int MaxEcCount, string TunnelMode, IdName Location,
    IdName? ProvTemplate, EcVm[] EcVMs);

public sealed record EcVm(long Id, string Name, string[] Status, string OperationalStatus, string FormFactor);

/// <summary>Cloud &amp; Branch Connector groups: read-only here, seeded per org.</summary>
public static class EcGroupsApi
{
    public const string Feature = "EDGE_CONNECTOR_CLOUD_PROVISIONING";

    public static void MapEcGroups(this RouteGroupBuilder api) =>
        api.MapGroup("/ecgroup").RequireFeature(Feature).WithTags("Cloud & Branch Connector groups")
            .MapReadOnly("Cloud & Branch Connector group", org => org.EcGroups, g => new IdName(g.Id, g.Name));
}
