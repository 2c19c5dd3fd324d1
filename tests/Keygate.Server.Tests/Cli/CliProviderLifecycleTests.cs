using Keygate.Cli;

namespace Keygate.Tests;

/// <summary>keygate provider tokens … and provider orgs suspend|resume|delete against a real Keygate on loopback.</summary>
public sealed class CliProviderLifecycleTests(CliServer server) : IClassFixture<CliServer>
{
    private KeygateApp App => server.App;

    private CliHarness Provider(string? token = null) => new CliHarness(App, server.Url).AsProvider(token);

    [Fact]
    public async Task TokensAreCreatedListedRotatedAndRevokedFromTheCli()
    {
        var cli = Provider();
        var created = (await cli.RunAsync("provider", "tokens", "create", "--name", "cli bot", "--expires-at", "2027-01-01", "--json")).Exit(0).Json();
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("kgp_", token);
        var id = created.GetProperty("id").GetInt64().ToString();
        var table = (await cli.RunAsync("provider", "tokens", "list")).Exit(0);
        Assert.Contains("cli bot", table.Out);
        Assert.DoesNotContain(token, table.Out);
        Assert.Contains(created.GetProperty("prefix").GetString()!, table.Out);

        var rotated = (await cli.RunAsync("provider", "tokens", "rotate", id, "--grace-seconds", "0", "--json")).Exit(0).Json();
        var fresh = rotated.GetProperty("token").GetString()!;
        Assert.NotEqual(token, fresh);
        (await Provider(token).RunAsync("provider", "orgs", "list")).Fails(ExitCodes.Authentication, "UNAUTHORIZED");
        (await Provider(fresh).RunAsync("provider", "orgs", "list")).Exit(0);
        (await cli.RunAsync("provider", "tokens", "rotate", id, "--grace-seconds", "604801")).Fails(ExitCodes.Usage, "graceSeconds");

        var newId = rotated.GetProperty("id").GetInt64().ToString();
        (await cli.RunAsync("provider", "tokens", "revoke", newId)).Fails(ExitCodes.Usage, "--yes");
        (await Provider(fresh).RunAsync("provider", "orgs", "list")).Exit(0);
        Assert.Contains("revoked", (await cli.RunAsync("provider", "tokens", "revoke", newId, "--yes")).Exit(0).Out);
        (await Provider(fresh).RunAsync("provider", "orgs", "list")).Fails(ExitCodes.Authentication, "UNAUTHORIZED");
        var printed = (await cli.RunAtTerminalAsync("n\n", "provider", "tokens", "revoke", "1")).Exit(ExitCodes.Other);
        Assert.Contains("Revoke token 1?", printed.Out + printed.Err);
    }

    [Fact]
    public async Task AnOrgIsSuspendedResumedAndDeletedFromTheCli()
    {
        var org = await App.CreateOrgAsync();
        var id = org.Id.ToString();
        var cli = Provider();
        (await cli.RunAsync("provider", "orgs", "delete", id)).Fails(ExitCodes.Usage, "--yes");
        var suspended = (await cli.RunAsync("provider", "orgs", "suspend", id, "--note", "unpaid", "--yes", "--json")).Exit(0).Json();
        Assert.True(suspended.GetProperty("suspended").GetBoolean());
        Assert.Contains("Suspended", (await cli.RunAsync("provider", "orgs", "resume", id)).Exit(0).Out);
        Assert.False((await cli.RunAsync("provider", "orgs", "show", id, "--json")).Exit(0).Json().GetProperty("suspended").GetBoolean());
        (await cli.RunAsync("provider", "orgs", "delete", id, "--yes")).Fails(ExitCodes.ConflictOrState, "ORG_NOT_SUSPENDED");
        (await cli.RunAsync("provider", "orgs", "suspend", id, "--yes")).Exit(0);
        var deleted = (await cli.RunAsync("provider", "orgs", "delete", id, "--yes", "--json")).Exit(0).Json();
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        (await cli.RunAsync("provider", "orgs", "show", id)).Fails(ExitCodes.ForbiddenOrNotFound, "RESOURCE_NOT_FOUND");
    }
}
