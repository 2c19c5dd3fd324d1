namespace Keygate.Tests;

/// <summary>The <see cref="KeygateCluster"/> with Keygate:Cluster:HotPath=Leases: nodes answer from memory under a lease.</summary>
public sealed class LeaseCluster : KeygateCluster
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["Keygate__Cluster__HotPath"] = "Leases" };
}
