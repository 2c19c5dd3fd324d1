using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Racing key changes through the legacy API (contract A3/A4): changes to one org are serialised, so racing
/// adds give one key and one 409, and racing value changes leave exactly one value — the last committed — in
/// the login check, the legacy API and the portal alike.
/// </summary>
public sealed class KeyConcurrencyTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private const string SandboxType = "SANDBOX_SUBMISSION";

    [Fact]
    public async Task TwoConcurrentSandboxAddsGiveExactlyOne201AndOne409KeyAlreadyExists()
    {
        for (var round = 0; round < 10; round++)
        {
            var org = await NewOrgAsync();
            using var a = await app.SessionAsync(org);
            using var b = await app.SessionAsync(org);

            var responses = await Task.WhenAll(
                a.PostAsync("/api/v1/apiKeys", Json(new { keyType = SandboxType })),
                b.PostAsync("/api/v1/apiKeys", Json(new { keyType = SandboxType })));

            var statuses = responses.Select(r => (int)r.StatusCode).Order().ToArray();
            Assert.True(statuses.SequenceEqual([201, 409]),
                $"round {round}: expected one 201 and one 409, got {string.Join(", ", statuses)}: "
                + string.Join(" | ", await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()))));
            var created = await responses.Single(r => r.StatusCode == HttpStatusCode.Created).AssertOk(HttpStatusCode.Created);
            await responses.Single(r => r.StatusCode == HttpStatusCode.Conflict).AssertError(HttpStatusCode.Conflict, "KEY_ALREADY_EXISTS");

            var sandboxes = await (await a.GetAsync("/api/v1/apiKeys?keyType=SANDBOX_SUBMISSION")).AssertOk();
            var only = Assert.Single(sandboxes.EnumerateArray());
            Assert.Equal(created.GetProperty("id").GetInt64(), only.GetProperty("id").GetInt64());
            Assert.Equal(created.GetProperty("keyValue").GetString(), only.GetProperty("keyValue").GetString());
            Assert.Equal(created.GetProperty("keyValue").GetString(), await app.KeyValueAsync(org, SandboxType));
            var view = await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}")).AssertOk();
            Assert.Single(view.GetProperty("keys").EnumerateArray(), k => k.GetProperty("keyType").GetString() == SandboxType);
        }
    }

    [Fact]
    public async Task EightConcurrentRegeneratesLeaveExactlyOneValueThatLogsInTheOneTheApiAndThePortalShow()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var original = await app.KeyValueAsync(org);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(_ => session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)));

        var returned = new List<string>();
        foreach (var r in responses)
        {
            var key = await r.AssertOk();
            Assert.Equal(org.KeyId, key.GetProperty("id").GetInt64());
            returned.Add(key.GetProperty("keyValue").GetString()!);
        }
        Assert.Equal(8, returned.Distinct().Count());
        Assert.DoesNotContain(original, returned);

        var listed = Assert.Single((await (await session.GetAsync("/api/v1/apiKeys")).AssertOk()).EnumerateArray()).GetProperty("keyValue").GetString()!;
        var portal = await app.KeyValueAsync(org);
        Assert.Contains(listed, returned);
        Assert.Equal(listed, portal);

        var working = new List<string>();
        foreach (var value in returned.Append(original))
            if (await LogsInAsync(org, value)) working.Add(value);
        Assert.Equal([listed], working);

        // All eight were committed (none was lost to the race), one after another.
        var audit = await KeyChangesAsync(org.Id);
        Assert.Equal(8, audit.Count(a => a.Action == "key.regenerate"));
    }

    [Fact]
    public async Task AConcurrentEditAndRegenerateLeaveOneConsistentValueTheLastCommitted()
    {
        for (var round = 0; round < 5; round++)
        {
            var org = await NewOrgAsync();
            using var a = await app.SessionAsync(org);
            using var b = await app.SessionAsync(org);
            var original = await app.KeyValueAsync(org);
            var edited = RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 12);

            var (edit, regenerate) = (a.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = edited })),
                b.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null));
            await Task.WhenAll(edit, regenerate);
            Assert.Equal(edited, (await (await edit).AssertOk()).GetProperty("keyValue").GetString());
            var regenerated = (await (await regenerate).AssertOk()).GetProperty("keyValue").GetString()!;

            // Audit ids follow commit order: the later of the two successful changes decides the value.
            var last = (await KeyChangesAsync(org.Id)).Last(c => c.Action is "key.edit" or "key.regenerate").Action;
            var expected = last == "key.edit" ? edited : regenerated;
            var stale = last == "key.edit" ? regenerated : edited;

            var listed = Assert.Single((await (await a.GetAsync("/api/v1/apiKeys")).AssertOk()).EnumerateArray()).GetProperty("keyValue").GetString();
            Assert.Equal(expected, listed);
            Assert.Equal(expected, await app.KeyValueAsync(org));
            Assert.True(await LogsInAsync(org, expected), $"round {round}: the value of the last commit ({last}) does not log in");
            Assert.False(await LogsInAsync(org, stale), $"round {round}: the value overwritten by {last} still logs in");
            Assert.False(await LogsInAsync(org, original), $"round {round}: the original value still logs in");
        }
    }

    private async Task<TestOrg> NewOrgAsync()
    {
        var org = await app.CreateOrgAsync();
        await app.RaiseLimitsAsync(org.Id);
        return org;
    }

    [Fact]
    public async Task OnSQLiteEveryConnectionWaitsForTheWriteLockInSQLitesOwnBusyHandler()
    {
        // Without it SQLite answers SQLITE_BUSY at once and Microsoft.Data.Sqlite sleeps 150 ms before retrying, so
        // a key change that met the metering flush took 150 ms longer (bench/README.md).
        Assert.SkipWhen(KeygateApp.OnPostgres, "SQLite only.");
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        for (var i = 0; i < 3; i++) // a fresh connection, then connections back from the pool
        {
            await db.Database.OpenConnectionAsync(TestContext.Current.CancellationToken);
            await using (var command = db.Database.GetDbConnection().CreateCommand())
            {
                command.CommandText = "PRAGMA busy_timeout;";
                Assert.Equal(5_000L, (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);
            }
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>True on 200, false on 400 AUTHENTICATION_FAILED; anything else fails the test.</summary>
    private async Task<bool> LogsInAsync(TestOrg org, string value)
    {
        var r = await app.LoginAsync(org.Username, org.Password, value);
        if (r.StatusCode == HttpStatusCode.OK) return true;
        await r.AssertError(HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
        return false;
    }

    /// <summary>The org's successful key.* audit events, oldest first.</summary>
    private async Task<List<(long Id, string Action)>> KeyChangesAsync(long orgId)
    {
        using var provider = app.Provider();
        var result = new List<(long, string)>();
        string? after = null;
        do
        {
            var page = await (await provider.GetAsync($"/provider/v1/organizations/{orgId}/audit?limit=100" + (after is null ? "" : $"&after={after}"))).AssertOk();
            foreach (var i in page.GetProperty("items").EnumerateArray())
                if (i.GetProperty("action").GetString()!.StartsWith("key.", StringComparison.Ordinal) && i.GetProperty("outcome").GetString() == "SUCCESS")
                    result.Add((i.GetProperty("id").GetInt64(), i.GetProperty("action").GetString()!));
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        } while (after is not null);
        return result;
    }
}
