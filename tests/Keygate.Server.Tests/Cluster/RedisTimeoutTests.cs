namespace Keygate.Tests;

/// <summary>
/// Issue 17's bench stall: one Redis reply later than Keygate:Redis:TimeoutMilliseconds (a cold node taking a burst
/// of calls) moved the node's meter to the database, where every call is a transaction on the org's meter row.
/// </summary>
public sealed class RedisTimeoutTests
{
    [Fact]
    public async Task OneLateRedisReplyIsAnsweredFromTheDatabaseWithoutMovingTheNodeThere()
    {
        Assert.SkipUnless(KeygateApp.ClusterReady, KeygateApp.ClusterSkipReason);
        await using var redis = await RedisProcess.StartAsync();
        using var node = KeygateApp.ClusterNode(new() { ["Keygate:Redis:TimeoutMilliseconds"] = "100" }, redis.Address);
        var org = await node.CreateOrgAsync();
        using var session = await node.SessionAsync(org);
        await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        var counter = node.Service<RedisUsageCounter>();

        redis.Pause(true);
        try
        {
            // Redis is connected and silent: the call's count times out and is decided in the database.
            await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
            Assert.False(counter.FallbackActive, "one late reply moved the node's meter to the database");
        }
        finally { redis.Pause(false); }
        await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.False(counter.FallbackActive);
    }
}
