namespace Keygate.Tests;

/// <summary>
/// Issue 17: the multi-node promise (no request accepted with a credential a change had ended) with
/// Keygate:Cluster:HotPath=Leases, where the other nodes answer from memory and a change waits for their acknowledgements.
/// </summary>
[Collection(nameof(MachineWide))]
public sealed class LeaseMultiNodeTests(LeaseCluster cluster, ITestOutputHelper output) : IClassFixture<LeaseCluster>
{
    [Fact(Timeout = 240_000)]
    public async Task OnTwoNodesNoRequestIsAcceptedWithACredentialAChangeHadEnded()
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        await MultiNodeTests.AssertNothingStaleAsync(cluster, output, TestContext.Current.CancellationToken, cluster.B);
    }

    [Fact(Timeout = 240_000)]
    public async Task OnThreeNodesNoRequestIsAcceptedWithACredentialAChangeHadEnded()
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        await using var c = await cluster.StartNodeAsync();
        await MultiNodeTests.AssertNothingStaleAsync(cluster, output, TestContext.Current.CancellationToken, cluster.B, c);
    }
}
