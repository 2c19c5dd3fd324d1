using System.Net;
using Microsoft.EntityFrameworkCore;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Issue 13, item 7: enabling a threshold-disabled key starts a fresh window for the org (contract A5), and that
/// fresh window is written with the enable: a node killed right after the enable does not bring the old count back.
/// </summary>
public sealed partial class FaultTests
{
    [Fact]
    public async Task AnEnableAfterTheThresholdKeepsItsFreshWindowWhenTheNodeIsKilledRightAfter()
    {
        await using var database = new NodeDatabase();
        var node = await database.StartNodeAsync();
        try
        {
            TestOrg org;
            using (var op = Operator(node, database))
            {
                org = await CreateOrgAsync(op, op);
                await (await op.PutAsync($"/provider/v1/organizations/{org.Id}/limits",
                    Json(new { callThreshold = new { calls = 3, windowSeconds = 86400 } }))).AssertOk();
            }
            var key = (await LedgerAsync(database, org.Id)).Cloud!.Value;
            using (var session = await NodeSessionAsync(node, org, key))
            {
                for (var i = 0; i < 3; i++) await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
                await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
            }
            // The old window's count reaches the database with the node's periodic usage write (a bounded wait).
            long saved = 0;
            for (var i = 0; i < 300 && saved < 4; i++)
            {
                await using (var db = database.Open())
                    saved = await db.MeterStates.Where(s => s.OrganizationId == org.Id).Select(s => s.ThresholdCount).FirstOrDefaultAsync();
                if (saved < 4) await Task.Delay(100);
            }
            Assert.Equal(4, saved);

            using (var op = Operator(node, database))
                await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/enable", null)).AssertOk();
            node.Kill(); // before the next usage write: only what the enable committed can hold the fresh window
            node = await database.StartNodeAsync();

            using var again = await NodeSessionAsync(node, org, key);
            await (await again.GetAsync("/api/v1/apiKeys")).AssertOk();
            using var provider = Operator(node, database);
            var usage = await (await provider.GetAsync($"/provider/v1/organizations/{org.Id}/usage")).AssertOk();
            Assert.Equal(1, usage.GetProperty("calls").GetInt64());
        }
        finally
        {
            await node.DisposeAsync();
        }
    }
}
