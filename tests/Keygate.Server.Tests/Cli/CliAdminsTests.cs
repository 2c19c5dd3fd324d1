using System.Text.Json;
using Keygate.Cli;

namespace Keygate.Tests;

/// <summary>keygate admins|roles|password against a real Keygate on loopback (contract A8 through the legacy session).</summary>
public sealed class CliAdminsTests(CliServer server) : IClassFixture<CliServer>
{
    private const string AdaPassword = "ada-first-pass-1";

    private KeygateApp App => server.App;

    private Task<(TestOrg Org, string Key, CliHarness Cli)> LoggedInAsync() => server.LoggedInAsync();

    /// <summary>Another admin of the org, logged in on their own CLI.</summary>
    private async Task<CliHarness> LoginAsync(string username, string password, string key)
    {
        var cli = new CliHarness(App, server.Url);
        cli.Vars["KEYGATE_USERNAME"] = username;
        cli.Vars["KEYGATE_PASSWORD"] = password;
        cli.Vars["KEYGATE_API_KEY"] = key;
        (await cli.RunAsync("login")).Exit(ExitCodes.Success);
        return cli;
    }

    private static JsonElement Admin(CliResult list, string login) =>
        list.Json().EnumerateArray().Single(a => a.GetProperty("loginName").GetString() == login);

    [Fact]
    public async Task AnAdminIsAddedListedEditedDisabledEnabledAndDeletedFromTheCli()
    {
        var (org, key, cli) = await LoggedInAsync();
        var login = $"ada-{org.Id}@acme.example";

        // The password is never an argument; it comes from the variable (or stdin with '--password -').
        (await cli.RunAsync("admins", "add", "--login-name", login, "--role", "Super Admin", "--password", AdaPassword)).Exit(ExitCodes.Usage);
        cli.Vars["KEYGATE_ADMIN_PASSWORD"] = AdaPassword;
        var added = (await cli.RunAsync("admins", "add", "--login-name", login, "--user-name", "Ada Admin", "--role", "Super Admin", "--json")).Exit(0).Json();
        Assert.Equal("Super Admin", added.GetProperty("role").GetProperty("name").GetString());
        Assert.False(added.TryGetProperty("password", out _));
        var id = added.GetProperty("id").GetInt64().ToString();

        var table = (await cli.RunAsync("admins", "list")).Exit(0);
        Assert.Contains(login, table.Out);
        Assert.Contains("Ada Admin", table.Out);
        Assert.DoesNotContain(AdaPassword, table.Out);
        Assert.Equal(2, (await cli.RunAsync("admins", "list", "--json")).Exit(0).Json().GetArrayLength());
        Assert.Single((await cli.RunAsync("admins", "list", "--search", "ada-", "--json")).Exit(0).Json().EnumerateArray());

        var edited = (await cli.RunAsync("admins", "edit", id, "--role", "Read Only Admin", "--user-name", "Ada Reader", "--json")).Exit(0).Json();
        Assert.Equal("Read Only Admin", edited.GetProperty("role").GetProperty("name").GetString());
        Assert.Equal("Ada Reader", (await cli.RunAsync("admins", "get", id, "--json")).Exit(0).Json().GetProperty("userName").GetString());

        // Ada logs in; disabling her ends her session, and asks first.
        var ada = await LoginAsync(login, AdaPassword, key);
        (await ada.RunAsync("admins", "list")).Exit(0);
        (await cli.RunAsync("admins", "disable", id)).Fails(ExitCodes.Usage, "--yes");
        var declined = (await cli.RunAtTerminalAsync("n\n", "admins", "disable", id)).Exit(ExitCodes.Other);
        Assert.Contains($"Disable admin {id} ({login})?", declined.Err);
        (await ada.RunAsync("admins", "list")).Exit(0);
        Assert.True((await cli.RunAsync("admins", "disable", id, "--yes", "--json")).Exit(0).Json().GetProperty("disabled").GetBoolean());
        (await ada.RunAsync("admins", "list")).Exit(ExitCodes.Authentication);
        Assert.Contains("ENABLED", (await cli.RunAsync("admins", "enable", id)).Exit(0).Out);
        Assert.False(Admin((await cli.RunAsync("admins", "list", "--json")).Exit(0), login).GetProperty("disabled").GetBoolean());

        (await cli.RunAsync("admins", "delete", id)).Fails(ExitCodes.Usage, "--yes");
        var deleted = (await cli.RunAsync("admins", "delete", id, "--yes", "--json")).Exit(0).Json();
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        (await cli.RunAsync("admins", "get", id)).Fails(ExitCodes.ForbiddenOrNotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task ACustomRoleIsAddedListedEditedAndDeletedFromTheCli()
    {
        var (_, _, cli) = await LoggedInAsync();
        var role = (await cli.RunAsync("roles", "add", "--name", "Key Keeper", "-p", "APIKEY_MANAGEMENT=READ_WRITE",
            "-p", "EDGE_CONNECTOR_ADMIN_MANAGEMENT=READ_ONLY", "--json")).Exit(0).Json();
        var id = role.GetProperty("id").GetInt64().ToString();
        var permissions = role.GetProperty("featurePermissions");
        Assert.Equal("READ_WRITE", permissions.GetProperty("APIKEY_MANAGEMENT").GetString());
        Assert.Equal("NONE", permissions.GetProperty("EDGE_CONNECTOR_DASHBOARD").GetString());

        var table = (await cli.RunAsync("roles", "list")).Exit(0);
        Assert.Contains("Key Keeper", table.Out);
        Assert.Contains("APIKEY_MANAGEMENT=READ_WRITE", table.Out);
        Assert.Contains("Read Only Admin", table.Out);
        Assert.Equal(3, (await cli.RunAsync("roles", "list", "--json")).Exit(0).Json().GetArrayLength());
        (await cli.RunAsync("roles", "add", "--name", "Bad", "-p", "APIKEY_MANAGEMENT=ALL")).Exit(ExitCodes.Usage);

        var edited = (await cli.RunAsync("roles", "edit", id, "-p", "APIKEY_MANAGEMENT=READ_ONLY", "--json")).Exit(0).Json();
        Assert.Equal("READ_ONLY", edited.GetProperty("featurePermissions").GetProperty("APIKEY_MANAGEMENT").GetString());
        Assert.Equal("Key Keeper", edited.GetProperty("name").GetString());

        // A role someone has stays (409 → exit 5).
        cli.Vars["KEYGATE_ADMIN_PASSWORD"] = AdaPassword;
        var admin = (await cli.RunAsync("admins", "add", "--login-name", $"keeper-{id}@acme.example", "--role", id, "--json")).Exit(0).Json();
        Assert.Equal("Key Keeper", admin.GetProperty("role").GetProperty("name").GetString());
        (await cli.RunAsync("roles", "delete", id, "--yes")).Fails(ExitCodes.ConflictOrState, "ROLE_IN_USE");
        (await cli.RunAsync("admins", "delete", admin.GetProperty("id").GetInt64().ToString(), "--yes")).Exit(0);

        (await cli.RunAsync("roles", "delete", id)).Fails(ExitCodes.Usage, "--yes");
        Assert.True((await cli.RunAsync("roles", "delete", id, "--yes", "--json")).Exit(0).Json().GetProperty("deleted").GetBoolean());
        Assert.DoesNotContain("Key Keeper", (await cli.RunAsync("roles", "list")).Exit(0).Out);
    }

    [Fact]
    public async Task ThePasswordIsChangedFromTheCliAndOnlyTheNewOneLogsIn()
    {
        var (org, key, cli) = await LoggedInAsync();
        const string fresh = "a-brand-new-pass-42";
        cli.Vars["KEYGATE_NEW_PASSWORD"] = fresh;

        cli.Vars["KEYGATE_PASSWORD"] = "not-the-password-1";
        (await cli.RunAsync("password", "change")).Fails(ExitCodes.Authentication, "INVALID_USERNAME_OR_PASSWORD");
        cli.Vars["KEYGATE_PASSWORD"] = org.Password;
        cli.Vars["KEYGATE_NEW_PASSWORD"] = "short";
        (await cli.RunAsync("password", "change")).Fails(ExitCodes.Usage, "INVALID_PASSWORD");
        cli.Vars["KEYGATE_NEW_PASSWORD"] = fresh;
        var changed = (await cli.RunAsync("password", "change", "--json")).Exit(0).Json();
        Assert.True(changed.GetProperty("changed").GetBoolean());
        (await cli.RunAsync("keys", "list")).Exit(0); // this session stays

        (await cli.RunAsync("login")).Fails(ExitCodes.Authentication, "INVALID_USERNAME_OR_PASSWORD");
        await LoginAsync(org.Username, fresh, key);

        // At a terminal the new password is asked twice; two different ones change nothing.
        cli.Vars.Remove("KEYGATE_NEW_PASSWORD");
        cli.Vars["KEYGATE_PASSWORD"] = fresh;
        (await cli.RunAsync("login")).Exit(0);
        (await cli.RunAtTerminalAsync("another-new-pass-1\nanother-new-pass-2\n", "password", "change")).Exit(ExitCodes.Usage);
        await LoginAsync(org.Username, fresh, key);
    }

    [Fact]
    public async Task RefusalsMapToTheirExitCodes()
    {
        var (org, key, cli) = await LoggedInAsync();
        var me = Admin((await cli.RunAsync("admins", "list", "--json")).Exit(0), org.Username).GetProperty("id").GetInt64().ToString();

        // The only admin who can manage admins cannot demote themselves (409 → 5), nor disable or delete themselves.
        (await cli.RunAsync("admins", "edit", me, "--role", "Read Only Admin")).Fails(ExitCodes.ConflictOrState, "LAST_SUPER_ADMIN");
        (await cli.RunAsync("admins", "delete", me, "--yes")).Exit(ExitCodes.ConflictOrState);
        (await cli.RunAsync("admins", "edit", "999999", "--user-name", "x")).Fails(ExitCodes.ForbiddenOrNotFound, "RESOURCE_NOT_FOUND");

        // A read-only admin may list admins but not change them (403 → 4).
        var reader = $"reader-{org.Id}@acme.example";
        cli.Vars["KEYGATE_ADMIN_PASSWORD"] = AdaPassword;
        var readerId = (await cli.RunAsync("admins", "add", "--login-name", reader, "--role", "Read Only Admin", "--json")).Exit(0).Json()
            .GetProperty("id").GetInt64().ToString();
        var readOnly = await LoginAsync(reader, AdaPassword, key);
        Assert.Contains(org.Username, (await readOnly.RunAsync("admins", "list")).Exit(0).Out);
        readOnly.Vars["KEYGATE_ADMIN_PASSWORD"] = AdaPassword;
        (await readOnly.RunAsync("admins", "add", "--login-name", $"x-{org.Id}@acme.example", "--role", "Super Admin")).Fails(ExitCodes.ForbiddenOrNotFound, "ACCESS_DENIED");
        (await readOnly.RunAsync("roles", "add", "--name", "Mine")).Fails(ExitCodes.ForbiddenOrNotFound, "ACCESS_DENIED");
        (await readOnly.RunAsync("admins", "disable", me, "--yes")).Fails(ExitCodes.ForbiddenOrNotFound, "ACCESS_DENIED");
        (await cli.RunAsync("admins", "get", readerId)).Exit(0);
        // Without a session: exit 3.
        (await new CliHarness(App, server.Url).RunAsync("admins", "list")).Exit(ExitCodes.Authentication);
    }
}
