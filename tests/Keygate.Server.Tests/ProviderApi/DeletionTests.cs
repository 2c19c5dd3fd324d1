using System.Data.Common;
using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B v3 deletion: only a suspended org; every secret erased, login names freed, the audit log kept.</summary>
public sealed class DeletionTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    [Fact]
    public async Task AnOrgThatIsNotSuspendedCannotBeDeleted()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        await AssertProblem(await op.DeleteAsync($"/provider/v1/organizations/{org.Id}"), HttpStatusCode.Conflict, "ORG_NOT_SUSPENDED");
        await GetOrgAsync(org.Id);
        var sp = await CreateServiceProviderAsync();
        using var stranger = app.Provider(sp.Token);
        await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/suspend", Json(new { note = "closing" }))).AssertOk();
        await AssertProblem(await stranger.DeleteAsync($"/provider/v1/organizations/{org.Id}"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await op.DeleteAsync("/provider/v1/organizations/abc"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await GetOrgAsync(org.Id);
    }

    [Fact]
    public async Task DeletingASuspendedOrgErasesEverySecretFreesItsNamesAndKeepsItsAudit()
    {
        var org = await app.CreateOrgAsync();
        using var session = await app.SessionAsync(org);
        await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = "SANDBOX_SUBMISSION" }))).AssertOk(HttpStatusCode.Created);
        var second = Unique("second");
        using var op = app.Provider();
        await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/admins", Json(new { username = second, password = Password, role = "READ_ONLY" })))
            .AssertOk(HttpStatusCode.Created);
        await (await op.PutAsync($"/provider/v1/organizations/{org.Id}/webhooks", Json(new { urls = new[] { "https://hooks.example.test/k" } }))).AssertOk();
        await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();

        // What must not survive: key values, their ciphertexts and lookup hashes, session hashes, password hashes, the webhook secret.
        var strings = new List<string> { await app.KeyValueAsync(org), await app.KeyValueAsync(org, "SANDBOX_SUBMISSION") };
        var blobs = new List<byte[]>();
        await using (var db = app.OpenDatabase())
        {
            foreach (var k in await db.ApiKeys.AsNoTracking().Where(k => k.OrganizationId == org.Id).ToListAsync())
            {
                blobs.Add(k.Ciphertext);
                if (k.LookupHash is { } h) blobs.Add(h);
            }
            blobs.AddRange(await db.LegacySessions.Where(s => s.OrganizationId == org.Id).Select(s => s.IdHash).ToListAsync());
            strings.AddRange(await db.Accounts.Where(a => a.OrganizationId == org.Id).Select(a => a.PasswordHash).ToListAsync());
            blobs.AddRange(await db.WebhookEndpoints.Where(w => w.OrganizationId == org.Id).Select(w => w.Secret).ToListAsync());
        }
        Assert.Equal(2 + 2, strings.Count);
        Assert.True(blobs.Count >= 4, $"expected two ciphertexts, a lookup hash, a session hash and a webhook secret: {blobs.Count}");
        // The scan finds them while the org exists, so its silence afterwards means something.
        Assert.NotEmpty(await ScanAsync(strings, blobs));

        await (await op.PostAsync($"/provider/v1/organizations/{org.Id}/suspend", Json(new { note = "closing" }))).AssertOk();
        Assert.Equal(HttpStatusCode.NoContent, (await op.DeleteAsync($"/provider/v1/organizations/{org.Id}")).StatusCode);

        Assert.Empty(await ScanAsync(strings, blobs));
        await AssertProblem(await op.GetAsync($"/provider/v1/organizations/{org.Id}"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await op.GetAsync($"/provider/v1/organizations/{org.Id}/audit"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await op.DeleteAsync($"/provider/v1/organizations/{org.Id}"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        Assert.DoesNotContain((await ListOrgsAsync()).EnumerateArray(), o => o.GetProperty("id").GetInt64() == org.Id);
        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await app.LoginAsync(org.Username, org.Password, strings[0])).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        using var anonymous = app.Client();
        await (await anonymous.PostAsync($"/zscsb/submit?api_token={strings[1]}", new ByteArrayContent([1]))).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");

        // The login names are free again.
        await CreateNamedOrgAsyncWithAdmin(org.Username);
        await (await op.PostAsync("/provider/v1/staff", Json(new { username = second, password = Password }))).AssertOk(HttpStatusCode.Created);

        // The audit log stays, closed by org.deleted; usage and the org's own webhooks are gone.
        await using var after = app.OpenDatabase();
        var actions = await after.AuditEvents.Where(e => e.OrganizationId == org.Id).OrderBy(e => e.Id).Select(e => e.Action).ToListAsync();
        Assert.Contains("organization.create", actions);
        Assert.Contains("key.add", actions);
        Assert.Equal("org.deleted", actions[^1]);
        Assert.Equal(["org.deleted"], await after.WebhookEvents.Where(e => e.OrganizationId == org.Id).Select(e => e.Type).ToListAsync());
        Assert.False(await after.MeterStates.AnyAsync(m => m.OrganizationId == org.Id));
        Assert.False(await after.UsageBuckets.AnyAsync(m => m.OrganizationId == org.Id));
    }

    /// <summary>Every text and blob value of every table that holds one of the needles, as "table: value".</summary>
    private async Task<List<string>> ScanAsync(List<string> strings, List<byte[]> blobs)
    {
        await using var db = app.OpenDatabase();
        var conn = db.Database.GetDbConnection();
        await conn.OpenAsync();
        var tables = new List<string>();
        await using (var list = conn.CreateCommand())
        {
            list.CommandText = KeygateApp.OnPostgres
                ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                : "SELECT name FROM sqlite_master WHERE type = 'table'";
            await using var r = await list.ExecuteReaderAsync();
            while (await r.ReadAsync()) tables.Add(r.GetString(0));
        }
        Assert.Contains("ApiKeys", tables);
        var textNeedles = strings.Concat(blobs.Select(Convert.ToBase64String)).Concat(blobs.Select(Convert.ToHexString)).ToList();
        var hits = new List<string>();
        foreach (var table in tables)
        {
            await using var select = conn.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\"";
            await using var r = await select.ExecuteReaderAsync();
            while (await r.ReadAsync())
                for (var i = 0; i < r.FieldCount; i++)
                    if (Hit(r, i, textNeedles, strings, blobs)) hits.Add($"{table}.{r.GetName(i)}");
        }
        return hits;
    }

    private static bool Hit(DbDataReader r, int i, List<string> textNeedles, List<string> strings, List<byte[]> blobs)
    {
        if (r.IsDBNull(i)) return false;
        return r.GetValue(i) switch
        {
            string s => textNeedles.Any(n => s.Contains(n, StringComparison.OrdinalIgnoreCase)),
            byte[] b => blobs.Any(n => b.AsSpan().IndexOf(n) >= 0) || strings.Any(n => b.AsSpan().IndexOf(Encoding.UTF8.GetBytes(n)) >= 0),
            _ => false,
        };
    }
}
