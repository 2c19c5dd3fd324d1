using System.Net;
using static Keygate.Tests.ConsoleForms;

namespace Keygate.Tests;

/// <summary>/console/tokens over HTTP: every action and refusal, its audit event, and its effect on the provider API.</summary>
public sealed class ConsoleTokensTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private async Task<HttpClient> ConsoleAsync(string? providerToken = null) =>
        await app.PortalLoginAsync(await app.CreateStaffAsync(providerToken), Scenario.Password);

    [Fact]
    public async Task ACreatedTokenIsShownOnceWorksAndIsListedWithoutItsValue()
    {
        using var c = await ConsoleAsync();
        var expiresAt = app.Clock.GetUtcNow().AddDays(30);
        var r = await c.PostHandlerAsync(Tokens, "Create", new() { ["name"] = "billing sync", ["expiresAt"] = expiresAt.ToString("yyyy-MM-ddTHH:mm:ss") });
        var token = await SecretOfAsync(r);
        Assert.StartsWith("kgp_", token);
        Assert.Equal(HttpStatusCode.OK, await app.ProviderStatusAsync(token));

        var page = await c.GetStringAsync(Tokens);
        Assert.DoesNotContain(token, page);
        Assert.Contains("billing sync", page);
        Assert.Contains(token[..8], page);
        Assert.Contains(AuditListing.Time(expiresAt.ToUnixTimeSeconds()), page);
        Assert.Equal(1, await app.AuditCountAsync("token.create", $"prefix={token[..8]} expiresAt={expiresAt.ToUnixTimeSeconds()}"));
    }

    [Fact]
    public async Task BadTokenFormsAreRefusedWithTheirReasonAndMakeNoToken()
    {
        using var c = await ConsoleAsync();
        var before = (await c.GetStringAsync(Tokens)).Split("data-token-id").Length;
        await AssertRefusedAsync(await c.PostHandlerAsync(Tokens, "Create", new() { ["name"] = "old", ["expiresAt"] = "2020-01-01T00:00" }),
            HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT", "expiresAt must be in the future.");
        await AssertRefusedAsync(await c.PostHandlerAsync(Tokens, "Create", new() { ["name"] = "bad", ["expiresAt"] = "tomorrow" }),
            HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT", "Enter the expiry as a date and time (UTC)");
        await AssertRefusedAsync(await c.PostHandlerAsync(Tokens, "Create", new() { ["name"] = "  " }),
            HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT", "The request is not valid.");
        var (id, _) = await app.CreateTokenAsync();
        await AssertRefusedAsync(await c.PostHandlerAsync(Tokens, "Rotate", new() { ["tokenId"] = id.ToString(), ["grace"] = "169", ["unit"] = "hours" }),
            HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT", "graceSeconds must be 0 to 604800.");
        Assert.Equal(before + 1, (await c.GetStringAsync(Tokens)).Split("data-token-id").Length);
    }

    [Fact]
    public async Task DuringTheGracePeriodBothTokensWorkAndAfterItOnlyTheNewOne()
    {
        using var c = await ConsoleAsync();
        var (id, old) = await app.CreateTokenAsync(name: "ci deploy");
        var confirm = await c.GetStringAsync($"{Tokens}?confirm=rotate&confirmToken={id}");
        Assert.Contains("Rotate ci deploy", confirm);
        var fresh = await SecretOfAsync(await c.PostHandlerAsync(Tokens, "Rotate", new() { ["tokenId"] = id.ToString(), ["grace"] = "30", ["unit"] = "minutes" }));
        Assert.NotEqual(old, fresh);
        Assert.Equal(HttpStatusCode.OK, await app.ProviderStatusAsync(old));
        Assert.Equal(HttpStatusCode.OK, await app.ProviderStatusAsync(fresh));
        var until = app.Clock.GetUtcNow().AddMinutes(30).ToUnixTimeSeconds();
        Assert.Contains($"Rotating, old one valid until {AuditListing.Time(until)}", await c.GetStringAsync(Tokens));
        Assert.Equal(1, await app.AuditCountAsync("token.rotate", $"token={id} prefix={old[..8]} new="));

        app.Clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(HttpStatusCode.Unauthorized, await app.ProviderStatusAsync(old));
        Assert.Equal(HttpStatusCode.OK, await app.ProviderStatusAsync(fresh));
        Assert.Contains($"Expired {AuditListing.Time(until)}", await c.GetStringAsync(Tokens));
        // An expired token offers no rotation, and a posted one is refused.
        await AssertRefusedAsync(await c.PostHandlerAsync(Tokens, "Rotate", new() { ["tokenId"] = id.ToString(), ["grace"] = "1" }),
            HttpStatusCode.Conflict, "CONFLICT", "The token is revoked or expired");
    }

    [Fact]
    public async Task ARevokedTokenIsRefusedAtItsNextRequest()
    {
        using var c = await ConsoleAsync();
        var (id, token) = await app.CreateTokenAsync();
        Assert.Equal(HttpStatusCode.OK, await app.ProviderStatusAsync(token));
        var confirm = await c.GetStringAsync($"{Tokens}?confirm=revoke&confirmToken={id}");
        Assert.Matches("href=\"/console/tokens\\?focus=revoke-\\d+\" data-cancel autofocus>Cancel", confirm);
        AssertRedirect(await c.PostHandlerAsync(Tokens, "Revoke", new() { ["tokenId"] = id.ToString() }), "/console/tokens?done=revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, await app.ProviderStatusAsync(token));
        Assert.Contains("The token was revoked.", await c.GetStringAsync($"{Tokens}?done=revoked"));
        Assert.Equal(1, await app.AuditCountAsync("token.revoke", $"token={id} "));
    }

    [Fact]
    public async Task ServiceProviderStaffManageOnlyTheirOwnTokens()
    {
        var sp = await app.CreateServiceProviderAsync();
        using var c = await ConsoleAsync(sp.Token);
        var (operatorTokenId, operatorToken) = await app.CreateTokenAsync();
        var page = await c.GetStringAsync(Tokens);
        Assert.DoesNotContain($"data-token-id=\"{operatorTokenId}\"", page);
        Assert.Contains(sp.Token[..8], page);

        await AssertRefusedAsync(await c.PostHandlerAsync(Tokens, "Revoke", new() { ["tokenId"] = operatorTokenId.ToString() }),
            HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "The resource does not exist.");
        await AssertRefusedAsync(await c.PostHandlerAsync(Tokens, "Rotate", new() { ["tokenId"] = operatorTokenId.ToString() }),
            HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "The resource does not exist.");
        Assert.Equal(HttpStatusCode.OK, await app.ProviderStatusAsync(operatorToken));
        // Naming another owner is as if it did not exist; its own token is a service provider's.
        await AssertRefusedAsync(await c.PostHandlerAsync(Tokens, "Create", new() { ["name"] = "x", ["serviceProviderId"] = (sp.Id + 1000).ToString() }),
            HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "The resource does not exist.");
        var own = await SecretOfAsync(await c.PostHandlerAsync(Tokens, "Create", new() { ["name"] = "reseller sync" }));
        Assert.StartsWith("kgs_", own);
        Assert.Equal(HttpStatusCode.OK, await app.ProviderStatusAsync(own));
    }

    [Fact]
    public async Task TheOperatorsStaffCreateATokenForAServiceProvider()
    {
        var sp = await app.CreateServiceProviderAsync();
        using var c = await ConsoleAsync();
        Assert.Contains($"<option value=\"{sp.Id}\">{sp.Name}</option>", await c.GetStringAsync(Tokens));
        var token = await SecretOfAsync(await c.PostHandlerAsync(Tokens, "Create", new() { ["name"] = "for reseller", ["serviceProviderId"] = sp.Id.ToString() }));
        Assert.StartsWith("kgs_", token);
        using var spc = app.Provider(sp.Token);
        Assert.Contains(token[..8], (await (await spc.GetAsync("/provider/v1/tokens")).AssertOk()).GetRawText());
    }

    [Fact]
    public async Task TheLastOperatorTokenCannotBeRevoked()
    {
        await using var own = new KeygateApp();
        var staff = await own.CreateStaffAsync();
        using var c = await own.PortalLoginAsync(staff, Scenario.Password);
        var list = await (await own.Provider().GetAsync("/provider/v1/tokens")).AssertOk();
        var seeded = list.EnumerateArray().Single(t => t.GetProperty("prefix").GetString() == own.OperatorToken[..8]).GetProperty("id").GetInt64();
        await AssertRefusedAsync(await c.PostHandlerAsync(Tokens, "Revoke", new() { ["tokenId"] = seeded.ToString() }),
            HttpStatusCode.Conflict, "LAST_OPERATOR_TOKEN", "This is the last operator token that works; create another one first.");
        Assert.Equal(HttpStatusCode.OK, await own.ProviderStatusAsync(own.OperatorToken));
    }

    [Fact]
    public async Task ForgedTokenPostsWithoutAntiforgeryChangeNothing()
    {
        using var c = await ConsoleAsync();
        var (id, token) = await app.CreateTokenAsync();
        foreach (var (handler, fields) in new (string, Dictionary<string, string>)[]
                 {
                     ("Create", new() { ["name"] = "forged" }), ("Rotate", new() { ["tokenId"] = id.ToString() }), ("Revoke", new() { ["tokenId"] = id.ToString() }),
                 })
            Assert.Equal(HttpStatusCode.BadRequest, (await c.PostHandlerAsync(Tokens, handler, fields, forged: true)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, await app.ProviderStatusAsync(token));
        Assert.DoesNotContain("forged", await c.GetStringAsync(Tokens));
        Assert.Equal(0, await app.AuditCountAsync("token.rotate", $"token={id} "));
    }
}
