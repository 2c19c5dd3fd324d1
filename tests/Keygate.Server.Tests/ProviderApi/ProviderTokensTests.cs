using System.Net;
using System.Text.Json;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B v3 tokens: list, create with an expiry, rotate with a grace period, revoke (errors as contract C).</summary>
public sealed class ProviderTokensTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    private async Task<JsonElement> CreateTokenAsync(HttpClient c, object body) =>
        await (await c.PostAsync("/provider/v1/tokens", Json(body))).AssertOk(HttpStatusCode.Created);

    private static async Task<HttpStatusCode> StatusWith(KeygateApp app, string token)
    {
        using var c = app.Provider(token);
        return (await c.GetAsync("/provider/v1/organizations?search=nothing-matches")).StatusCode;
    }

    private async Task<JsonElement> ListedAsync(HttpClient c, long id) =>
        (await (await c.GetAsync("/provider/v1/tokens")).AssertOk()).EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == id);

    [Fact]
    public async Task ACreatedTokenIsShownOnceWorksAndIsListedWithoutItsValue()
    {
        using var op = app.Provider();
        var created = await CreateTokenAsync(op, new { name = "deploy bot" });
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("kgp_", token);
        Assert.True(ProviderTokens.IsWellFormed(token));
        Assert.Equal(token[..8], created.GetProperty("prefix").GetString());
        Assert.Equal(HttpStatusCode.OK, await StatusWith(app, token));

        var listed = await (await op.GetAsync("/provider/v1/tokens")).AssertOk();
        Assert.DoesNotContain(token, listed.GetRawText());
        var mine = listed.EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == created.GetProperty("id").GetInt64());
        AssertProperties(mine, "id", "name", "prefix", "serviceProviderId", "createdAt", "expiresAt", "lastUsedAt", "revokedAt");
        Assert.Equal("deploy bot", mine.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, mine.GetProperty("serviceProviderId").ValueKind);
        Assert.Equal(JsonValueKind.Null, mine.GetProperty("expiresAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, mine.GetProperty("revokedAt").ValueKind);
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds(), mine.GetProperty("lastUsedAt").GetInt64());
    }

    [Fact]
    public async Task ATokenIsRefusedOnceItsExpiryPasses()
    {
        using var op = app.Provider();
        var expiresAt = app.Clock.GetUtcNow().ToUnixTimeSeconds() + 3600;
        var created = await CreateTokenAsync(op, new { name = "short lived", expiresAt });
        var token = created.GetProperty("token").GetString()!;
        Assert.Equal(expiresAt, created.GetProperty("expiresAt").GetInt64());
        Assert.Equal(HttpStatusCode.OK, await StatusWith(app, token));
        app.Clock.Advance(TimeSpan.FromSeconds(3600));
        using var expired = app.Provider(token);
        await AssertProblem(await expired.GetAsync("/provider/v1/organizations"), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task DuringTheGracePeriodBothTokensWorkAndAfterItOnlyTheNewOne()
    {
        using var op = app.Provider();
        var old = await CreateTokenAsync(op, new { name = "ci" });
        var oldToken = old.GetProperty("token").GetString()!;
        var rotated = await (await op.PostAsync($"/provider/v1/tokens/{old.GetProperty("id").GetInt64()}/rotate", Json(new { graceSeconds = 600 })))
            .AssertOk(HttpStatusCode.Created);
        var newToken = rotated.GetProperty("token").GetString()!;
        Assert.NotEqual(oldToken, newToken);
        Assert.Equal("ci", rotated.GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, await StatusWith(app, oldToken));
        Assert.Equal(HttpStatusCode.OK, await StatusWith(app, newToken));
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds() + 600, (await ListedAsync(op, old.GetProperty("id").GetInt64())).GetProperty("expiresAt").GetInt64());

        app.Clock.Advance(TimeSpan.FromSeconds(599));
        Assert.Equal(HttpStatusCode.OK, await StatusWith(app, oldToken));
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWith(app, oldToken));
        Assert.Equal(HttpStatusCode.OK, await StatusWith(app, newToken));
        // An expired token cannot be rotated again: its successor can.
        await AssertProblem(await op.PostAsync($"/provider/v1/tokens/{old.GetProperty("id").GetInt64()}/rotate", null), HttpStatusCode.Conflict, "CONFLICT");
    }

    [Fact]
    public async Task RotationWithoutABodyKeepsTheOldTokenForADay()
    {
        using var op = app.Provider();
        var old = await CreateTokenAsync(op, new { name = "nightly" });
        await (await op.PostAsync($"/provider/v1/tokens/{old.GetProperty("id").GetInt64()}/rotate", null)).AssertOk(HttpStatusCode.Created);
        app.Clock.Advance(TimeSpan.FromSeconds(86_399));
        Assert.Equal(HttpStatusCode.OK, await StatusWith(app, old.GetProperty("token").GetString()!));
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWith(app, old.GetProperty("token").GetString()!));
    }

    [Fact]
    public async Task ARevokedTokenIsRefusedAtTheNextRequest()
    {
        using var op = app.Provider();
        var created = await CreateTokenAsync(op, new { name = "leaked" });
        var token = created.GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await StatusWith(app, token));
        var id = created.GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.NoContent, (await op.DeleteAsync($"/provider/v1/tokens/{id}")).StatusCode);
        using var revoked = app.Provider(token);
        await AssertProblem(await revoked.GetAsync("/provider/v1/organizations"), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds(), (await ListedAsync(op, id)).GetProperty("revokedAt").GetInt64());
        // Revoking again changes nothing.
        Assert.Equal(HttpStatusCode.NoContent, (await op.DeleteAsync($"/provider/v1/tokens/{id}")).StatusCode);
        await using var db = app.OpenDatabase();
        Assert.Single(db.AuditEvents.Where(e => e.Action == "token.revoke" && e.Detail.StartsWith($"token={id} ")));
    }

    [Fact]
    public async Task TheLastOperatorTokenCannotBeRevoked()
    {
        await using var fresh = new KeygateApp();
        using var op = fresh.Provider();
        var tokens = await (await op.GetAsync("/provider/v1/tokens")).AssertOk();
        var bootstrap = Assert.Single(tokens.EnumerateArray()).GetProperty("id").GetInt64();
        await AssertProblem(await op.DeleteAsync($"/provider/v1/tokens/{bootstrap}"), HttpStatusCode.Conflict, "LAST_OPERATOR_TOKEN");
        Assert.Equal(HttpStatusCode.OK, (await op.GetAsync("/provider/v1/tokens")).StatusCode);

        // A service provider's token does not count: the operator would still be locked out.
        var sp = await (await op.PostAsync("/provider/v1/serviceProviders", Json(new { name = "Reseller" }))).AssertOk(HttpStatusCode.Created);
        await AssertProblem(await op.DeleteAsync($"/provider/v1/tokens/{bootstrap}"), HttpStatusCode.Conflict, "LAST_OPERATOR_TOKEN");
        // Nor does one that expires.
        var expiring = await CreateTokenAsync(op, new { name = "temp", expiresAt = fresh.Clock.GetUtcNow().ToUnixTimeSeconds() + 60 });
        fresh.Clock.Advance(TimeSpan.FromSeconds(60));
        await AssertProblem(await op.DeleteAsync($"/provider/v1/tokens/{bootstrap}"), HttpStatusCode.Conflict, "LAST_OPERATOR_TOKEN");
        Assert.NotEqual(0, expiring.GetProperty("id").GetInt64());

        var second = await CreateTokenAsync(op, new { name = "second" });
        Assert.Equal(HttpStatusCode.NoContent, (await op.DeleteAsync($"/provider/v1/tokens/{bootstrap}")).StatusCode);
        using var next = fresh.Provider(second.GetProperty("token").GetString()!);
        await AssertProblem(await next.DeleteAsync($"/provider/v1/tokens/{second.GetProperty("id").GetInt64()}"), HttpStatusCode.Conflict, "LAST_OPERATOR_TOKEN");
        Assert.NotEqual(0, sp.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task AServiceProviderManagesOnlyItsOwnTokens()
    {
        var a = await CreateServiceProviderAsync();
        var b = await CreateServiceProviderAsync();
        using var ca = app.Provider(a.Token);
        using var cb = app.Provider(b.Token);
        var own = await CreateTokenAsync(ca, new { name = "a's second" });
        Assert.StartsWith("kgs_", own.GetProperty("token").GetString());
        Assert.Equal(a.Id, own.GetProperty("serviceProviderId").GetInt64());
        var theirs = await CreateTokenAsync(cb, new { name = "b's second" });
        var theirId = theirs.GetProperty("id").GetInt64();

        var listed = await (await ca.GetAsync("/provider/v1/tokens")).AssertOk();
        Assert.All(listed.EnumerateArray(), t => Assert.Equal(a.Id, t.GetProperty("serviceProviderId").GetInt64()));
        Assert.Equal(2, listed.GetArrayLength());
        await AssertProblem(await ca.DeleteAsync($"/provider/v1/tokens/{theirId}"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await ca.PostAsync($"/provider/v1/tokens/{theirId}/rotate", null), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await ca.PostAsync("/provider/v1/tokens", Json(new { name = "for b", serviceProviderId = b.Id })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        Assert.Equal(HttpStatusCode.OK, await StatusWith(app, theirs.GetProperty("token").GetString()!));

        // The operator sees and creates every token; a service provider may revoke its own last one.
        using var op = app.Provider();
        var forB = await CreateTokenAsync(op, new { name = "issued for b", serviceProviderId = b.Id });
        Assert.StartsWith("kgs_", forB.GetProperty("token").GetString());
        var all = await (await op.GetAsync("/provider/v1/tokens")).AssertOk();
        Assert.Contains(all.EnumerateArray(), t => t.GetProperty("id").GetInt64() == theirId);
        Assert.Equal(HttpStatusCode.NoContent, (await cb.DeleteAsync($"/provider/v1/tokens/{theirId}")).StatusCode);
    }

    [Fact]
    public async Task BadTokenRequestsAreRefusedWithTheContractsErrors()
    {
        using var op = app.Provider();
        var now = app.Clock.GetUtcNow().ToUnixTimeSeconds();
        await AssertInvalid(await op.PostAsync("/provider/v1/tokens", Json(new { name = "past", expiresAt = now })), "expiresAt");
        await AssertInvalid(await op.PostAsync("/provider/v1/tokens", Json(new { expiresAt = now + 60 })));
        await AssertInvalid(await op.PostAsync("/provider/v1/tokens", Json(new { name = "x", scope = "all" })));
        await AssertInvalid(await op.PostAsync("/provider/v1/tokens", Json(new { name = "x", serviceProviderId = 999_999_999 })), "serviceProviderId");
        var created = await CreateTokenAsync(op, new { name = "rotating" });
        var id = created.GetProperty("id").GetInt64();
        await AssertInvalid(await op.PostAsync($"/provider/v1/tokens/{id}/rotate", Json(new { graceSeconds = 604_801 })), "graceSeconds");
        await AssertInvalid(await op.PostAsync($"/provider/v1/tokens/{id}/rotate", Json(new { graceSeconds = -1 })), "graceSeconds");
        await AssertProblem(await op.PostAsync("/provider/v1/tokens/abc/rotate", null), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await op.DeleteAsync("/provider/v1/tokens/999999999"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        // Nothing was rotated by the refused requests.
        Assert.Equal(HttpStatusCode.OK, await StatusWith(app, created.GetProperty("token").GetString()!));
        Assert.Equal(JsonValueKind.Null, (await ListedAsync(op, id)).GetProperty("expiresAt").ValueKind);
        using var anonymous = app.Client();
        await AssertProblem(await anonymous.GetAsync("/provider/v1/tokens"), HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }
}
