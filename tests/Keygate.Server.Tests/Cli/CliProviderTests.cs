using System.Net;
using Keygate.Cli;

namespace Keygate.Tests;

/// <summary>The keygate CLI's provider commands against a real Keygate on loopback.</summary>
public sealed class CliProviderTests(CliServer server) : IClassFixture<CliServer>
{
    private KeygateApp App => server.App;

    private CliHarness Provider(string? token = null) => new CliHarness(App, server.Url).AsProvider(token);

    [Fact]
    public async Task TheProviderCreatesSubscribesListsShowsLimitsAndAuditsAnOrg()
    {
        var cli = Provider();
        var admin = Scenario.Unique("admin");
        var name = "Cli Org " + Guid.NewGuid().ToString("N")[..8];
        cli.Vars["KEYGATE_ADMIN_PASSWORD"] = Scenario.Password;

        var created = (await cli.RunAsync("provider", "orgs", "create", "--name", name, "--admin-username", admin, "--json")).Exit(0).Json();
        Assert.Equal(name, created.GetProperty("name").GetString());
        Assert.False(created.GetProperty("subscription").GetProperty("enabled").GetBoolean());
        var id = created.GetProperty("id").GetInt64().ToString();

        var set = (await cli.RunAsync("provider", "subscription", "set", id, "--enabled", "true", "--expires-at", "2027-01-01")).Exit(0);
        Assert.Contains("on, expires 2027-01-01 00:00:00Z", set.Out);

        var list = (await cli.RunAsync("provider", "orgs", "list")).Exit(0);
        Assert.Contains(name, list.Out);
        Assert.Contains("CLOUD_SERVICE", list.Out);
        var listed = (await cli.RunAsync("provider", "orgs", "list", "--search", name, "--json")).Exit(0).Json();
        Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("id").GetInt64().ToString());

        var shown = (await cli.RunAsync("provider", "orgs", "show", id, "--json")).Exit(0).Json();
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(),
            shown.GetProperty("subscription").GetProperty("expiresAt").GetInt64());
        var keyId = shown.GetProperty("keys")[0].GetProperty("id").GetInt64().ToString();
        var showTable = (await cli.RunAsync("provider", "orgs", "show", id)).Exit(0);
        Assert.Contains(keyId, showTable.Out);
        Assert.Contains("ENABLED", showTable.Out);

        // limits: only what is given changes.
        var limits = (await cli.RunAsync("provider", "limits", "set", id, "--calls", "5000", "--heavy-per-minute", "3", "--json")).Exit(0).Json();
        Assert.Equal(5000, limits.GetProperty("callThreshold").GetProperty("calls").GetInt64());
        Assert.Equal(86400, limits.GetProperty("callThreshold").GetProperty("windowSeconds").GetInt64());
        Assert.Equal(3, limits.GetProperty("rates").GetProperty("heavy").GetProperty("perMinute").GetInt32());
        Assert.Equal(2, limits.GetProperty("rates").GetProperty("light").GetProperty("perSecond").GetInt32());
        Assert.Contains("5,000 per 86,400 s", (await cli.RunAsync("provider", "limits", "set", id, "--warn-at-percent", "90")).Exit(0).Out);
        (await cli.RunAsync("provider", "limits", "set", id)).Fails(ExitCodes.Usage, "at least one limit");
        (await cli.RunAsync("provider", "limits", "set", id, "--calls", "0")).Fails(ExitCodes.Usage, "400 INVALID_INPUT_ARGUMENT", "callThreshold.calls");

        // disable / enable the Cloud Service key (found by type when no key id is given); never a key value.
        var disabled = (await cli.RunAsync("provider", "keys", "disable", id, "--reason", "OTHER", "--note", "ticket 981", "--json")).Exit(0).Json();
        Assert.Equal("DISABLED", disabled.GetProperty("status").GetString());
        Assert.Equal("OTHER", disabled.GetProperty("disabledReason").GetString());
        Assert.False(disabled.TryGetProperty("keyValue", out _));
        var enabled = (await cli.RunAsync("provider", "keys", "enable", id, keyId)).Exit(0);
        Assert.Contains("ENABLED", enabled.Out);
        Assert.Contains("(hidden)", enabled.Out);

        var usage = (await cli.RunAsync("provider", "usage", id, "--json")).Exit(0).Json();
        Assert.Equal(5000, usage.GetProperty("threshold").GetInt64());

        // audit: a table, a page with a cursor, and every page at once.
        var audit = (await cli.RunAsync("provider", "audit", id)).Exit(0);
        Assert.Contains("organization.create", audit.Out);
        Assert.Contains("key.disable", audit.Out);
        var page = (await cli.RunAsync("provider", "audit", id, "--limit", "2", "--json")).Exit(0).Json();
        Assert.Equal(2, page.GetProperty("items").GetArrayLength());
        var next = page.GetProperty("next").GetString()!;
        Assert.Contains($"--after {next}", (await cli.RunAsync("provider", "audit", id, "--limit", "2")).Out);
        var rest = (await cli.RunAsync("provider", "audit", id, "--after", next, "--json")).Exit(0).Json();
        var everything = (await cli.RunAsync("provider", "audit", id, "--all", "--limit", "2", "--json")).Exit(0).Json();
        Assert.Equal(2 + rest.GetProperty("items").GetArrayLength(), everything.GetProperty("items").GetArrayLength());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, everything.GetProperty("next").ValueKind);
        Assert.Contains(everything.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString() == "key.enable");
    }

    [Fact]
    public async Task SubscriptionRenewAndExpireWorkFromTheCurrentExpiry()
    {
        var org = await App.CreateOrgAsync();
        var cli = Provider();
        var id = org.Id.ToString();
        var now = App.Clock.GetUtcNow().ToUnixTimeSeconds();

        var expired = (await cli.RunAsync("provider", "subscription", "expire", id, "--json")).Exit(0).Json();
        Assert.Equal(now, expired.GetProperty("subscription").GetProperty("expiresAt").GetInt64());
        Assert.Equal("SUBSCRIPTION_EXPIRED", expired.GetProperty("keys")[0].GetProperty("status").GetString());

        var renewed = (await cli.RunAsync("provider", "subscription", "renew", id, "--until", "never", "--json")).Exit(0).Json();
        Assert.Equal(System.Text.Json.JsonValueKind.Null, renewed.GetProperty("subscription").GetProperty("expiresAt").ValueKind);
        (await cli.RunAsync("provider", "subscription", "set", id, "--expires-at", (now + 1000).ToString())).Exit(0);
        // --days extends a future expiry rather than starting from now.
        var extended = (await cli.RunAsync("provider", "subscription", "renew", id, "--days", "10", "--json")).Exit(0).Json();
        Assert.Equal(now + 1000 + 10 * 86400, extended.GetProperty("subscription").GetProperty("expiresAt").GetInt64());

        (await cli.RunAsync("provider", "subscription", "renew", id)).Fails(ExitCodes.Usage, "--until");
        (await cli.RunAsync("provider", "subscription", "set", id, "--expires-at", "soon")).Fails(ExitCodes.Usage, "not a time");
    }

    [Fact]
    public async Task ProviderErrorsGiveTheDocumentedExitCodes()
    {
        var org = await App.CreateOrgAsync();
        // No token: authentication. A wrong one: the server's 401.
        var none = new CliHarness(App, server.Url);
        (await none.RunAsync("provider", "orgs", "list")).Fails(ExitCodes.Authentication, "KEYGATE_PROVIDER_TOKEN");
        (await Provider("kgp_wrong").RunAsync("provider", "orgs", "list")).Fails(ExitCodes.Authentication, "401 UNAUTHORIZED");
        // No URL: usage.
        var noUrl = Provider();
        noUrl.Vars["KEYGATE_URL"] = null;
        (await noUrl.RunAsync("provider", "orgs", "list")).Fails(ExitCodes.Usage, "--url");

        // Another service provider's org is a 404; an operator's disable cannot be lifted by a service provider (403).
        var sp = await (await App.Provider().PostAsync("/provider/v1/serviceProviders", Scenario.Json(new { name = "Reseller" }))).AssertOk(HttpStatusCode.Created);
        var reseller = Provider(sp.GetProperty("token").GetString());
        (await reseller.RunAsync("provider", "orgs", "show", org.Id.ToString())).Fails(ExitCodes.ForbiddenOrNotFound, "404 RESOURCE_NOT_FOUND");
        var own = await App.CreateOrgAsync(serviceProviderId: sp.GetProperty("id").GetInt64());
        (await Provider().RunAsync("provider", "keys", "disable", own.Id.ToString(), "--reason", "TERMS_VIOLATION")).Exit(0);
        (await reseller.RunAsync("provider", "keys", "enable", own.Id.ToString())).Fails(ExitCodes.ForbiddenOrNotFound, "403 ACCESS_DENIED");

        // A taken admin username is a conflict.
        var cli = Provider();
        cli.Vars["KEYGATE_ADMIN_PASSWORD"] = Scenario.Password;
        (await cli.RunAsync("provider", "orgs", "create", "--name", "Dup", "--admin-username", org.Username)).Fails(ExitCodes.ConflictOrState, "409 USERNAME_TAKEN");
        Assert.DoesNotContain(Scenario.Password, (await cli.RunAsync("provider", "orgs", "create", "--name", "Dup", "--admin-username", org.Username)).Err);
        // An org with no sandbox key: nothing to disable.
        (await cli.RunAsync("provider", "keys", "disable", org.Id.ToString(), "--type", "SANDBOX_SUBMISSION", "--reason", "OTHER"))
            .Fails(ExitCodes.ForbiddenOrNotFound, "no SANDBOX_SUBMISSION key");
    }
}
