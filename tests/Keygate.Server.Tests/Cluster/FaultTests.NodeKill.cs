using System.Net;
using System.Net.Http.Headers;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Issue 6, item 4: a node killed in the middle of a change. A real server process takes a stream of concurrent
/// key changes and is SIGKILLed at a random moment, a few times in a row, each time started again on the same
/// database (SQLite, or PostgreSQL with KEYGATE_TEST_POSTGRES). After every kill each change is either fully there
/// — with its audit event, its version, its StateVersion step — or not at all, and the restarted node serves
/// exactly the committed keys.
/// </summary>
public sealed partial class FaultTests
{
    private const int Rounds = 3;

    [Fact]
    public async Task ANodeKilledInTheMiddleOfChangesLeavesEachChangeFullyThereOrNotAtAll()
    {
        await using var database = new NodeDatabase();
        var node = await database.StartNodeAsync();
        try
        {
            TestOrg org;
            using (var op = Operator(node, database)) org = await CreateOrgAsync(op, op);
            for (var round = 1; round <= Rounds; round++)
            {
                var before = await LedgerAsync(database, org.Id);
                await ReadyForChangesAsync(node, database, org, before);
                using var session = await NodeSessionAsync(node, org, before.Cloud!.Value);
                using var provider = Operator(node, database);
                var stream = ChangeStream.Start(session, provider, org);
                await stream.FlowingAsync();
                await Task.Delay(Random.Shared.Next(200, 1500));
                stream.Killing();
                node.Kill();
                await stream.EndAsync();

                var after = await LedgerAsync(database, org.Id);
                var committedNow = after.Successes.GroupBy(e => e.Action)
                    .ToDictionary(g => g.Key, g => g.Count() - before.Successes.Count(e => e.Action == g.Key));
                TestContext.Current.TestOutputHelper?.WriteLine($"round {round}: returned {Describe(stream.Returned)}; committed {Describe(committedNow)}");
                after.AssertConsistent();
                // No change that returned was lost (more may be committed: the kill took their answers).
                foreach (var (action, returned) in stream.Returned)
                    Assert.True(committedNow.GetValueOrDefault(action) >= returned,
                        $"round {round}: {returned} {action} returned but {committedNow.GetValueOrDefault(action)} committed");

                node = await database.StartNodeAsync();
                await AssertServesAsync(node, org, after, before.Cloud.Value);
            }
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    private static string Describe(IReadOnlyDictionary<string, int> counts) =>
        string.Join(", ", counts.Where(c => c.Value != 0).OrderBy(c => c.Key).Select(c => $"{c.Value} {c.Key}"));

    internal static async Task<OrgLedger> LedgerAsync(NodeDatabase database, long orgId)
    {
        await using var db = database.Open();
        return await OrgLedger.ReadAsync(db, orgId, database.Vault);
    }

    private static HttpClient NodeClient(NodeProcess node) => new() { BaseAddress = node.Address, Timeout = TimeSpan.FromSeconds(30) };

    internal static HttpClient Operator(NodeProcess node, NodeDatabase database)
    {
        var c = NodeClient(node);
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", database.OperatorToken);
        return c;
    }

    /// <summary>A login as contract A2 has it, at the node's own (real) time.</summary>
    private static async Task<HttpResponseMessage> NodeLoginAsync(NodeProcess node, TestOrg org, string key)
    {
        using var c = NodeClient(node);
        return await c.LoginAsync(org.Username, org.Password, key, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    internal static async Task<HttpClient> NodeSessionAsync(NodeProcess node, TestOrg org, string key)
    {
        var r = await NodeLoginAsync(node, org, key);
        await r.AssertOk();
        var c = NodeClient(node);
        c.DefaultRequestHeaders.Add("Cookie", $"JSESSIONID={SessionIdOf(r)}");
        return c;
    }

    /// <summary>A kill may leave the key disabled or the sandbox key deleted; the next round starts from a usable org.</summary>
    private static async Task ReadyForChangesAsync(NodeProcess node, NodeDatabase database, TestOrg org, OrgLedger ledger)
    {
        if (ledger.Cloud!.DisabledReason is not null)
        {
            using var provider = Operator(node, database);
            await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{ledger.Cloud.Id}/enable", null)).AssertOk();
        }
        if (ledger.Sandbox is not null) return;
        using var session = await NodeSessionAsync(node, org, ledger.Cloud.Value);
        await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = "SANDBOX_SUBMISSION" }))).AssertOk(HttpStatusCode.Created);
    }

    /// <summary>The restarted node accepts exactly the committed values: the Cloud Service key logs in, the one before does not, the sandbox token is known.</summary>
    private static async Task AssertServesAsync(NodeProcess node, TestOrg org, OrgLedger ledger, string previousCloudValue)
    {
        var cloud = ledger.Cloud!;
        var login = await NodeLoginAsync(node, org, cloud.Value);
        if (cloud.DisabledReason is null) await login.AssertOk();
        else await login.AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        if (previousCloudValue != cloud.Value)
            await (await NodeLoginAsync(node, org, previousCloudValue)).AssertError(HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
        if (ledger.Sandbox is { } sandbox)
        {
            using var c = NodeClient(node);
            var submit = await c.PostAsync($"/zscsb/submit?api_token={sandbox.Value}", new ByteArrayContent("sample"u8.ToArray()));
            await submit.AssertError(HttpStatusCode.ServiceUnavailable, "SANDBOX_UPSTREAM_NOT_CONFIGURED");
        }
    }
}
