using Keygate.Cli;

namespace Keygate.Tests;

/// <summary>
/// No secret is ever a command-line argument (shell history and process listings keep those): the new value of
/// 'keygate keys edit' comes from KEYGATE_NEW_KEY, from stdin with '--value -', or from a prompt without echo.
/// </summary>
public sealed class CliSecretsTests(CliServer server) : IClassFixture<CliServer>
{
    private KeygateApp App => server.App;

    private Task<(TestOrg Org, string Key, CliHarness Cli)> LoggedInAsync() => server.LoggedInAsync();

    [Fact]
    public async Task ANewKeyValueOnTheCommandLineIsRefusedWithExit2AndTheKeyIsUnchanged()
    {
        var (org, key, cli) = await LoggedInAsync();
        var r = (await cli.RunAsync("keys", "edit", org.KeyId.ToString(), "--value", "NewKey123456", "--yes")).Exit(ExitCodes.Usage);
        Assert.Contains("KEYGATE_NEW_KEY", r.Err);
        Assert.Contains("--value -", r.Err);
        Assert.DoesNotContain("NewKey123456", r.Out + r.Err); // not even repeated in the error
        Assert.Equal(key, await App.KeyValueAsync(org));
    }

    [Fact]
    public async Task TheNewKeyValueComesFromKeygateNewKey()
    {
        var (org, _, cli) = await LoggedInAsync();
        cli.Vars["KEYGATE_NEW_KEY"] = "EnvKey123456";
        var r = (await cli.RunAsync("keys", "edit", org.KeyId.ToString(), "--yes")).Exit(0);
        Assert.Contains("EnvKey123456", r.Out);
        Assert.Equal("EnvKey123456", await App.KeyValueAsync(org));
    }

    [Fact]
    public async Task TheNewKeyValueComesFromStdinWithValueDash()
    {
        var (org, key, cli) = await LoggedInAsync();
        (await cli.RunWithStdinAsync("", "keys", "edit", org.KeyId.ToString(), "--value", "-", "--yes")).Exit(ExitCodes.Usage);
        Assert.Equal(key, await App.KeyValueAsync(org));
        var r = (await cli.RunWithStdinAsync("StdinKey1234\n", "keys", "edit", org.KeyId.ToString(), "--value", "-", "--yes", "--json")).Exit(0);
        Assert.Equal("StdinKey1234", r.Json().GetProperty("keyValue").GetString());
        Assert.Equal("StdinKey1234", await App.KeyValueAsync(org));
    }

    [Fact]
    public async Task AtATerminalTheNewKeyValueIsAskedForAndWithoutOneOrATerminalItIsAUsageError()
    {
        var (org, key, cli) = await LoggedInAsync();
        var none = (await cli.RunAsync("keys", "edit", org.KeyId.ToString(), "--yes")).Exit(ExitCodes.Usage);
        Assert.Contains("KEYGATE_NEW_KEY", none.Err);
        Assert.Contains("--value -", none.Err);
        Assert.Equal(key, await App.KeyValueAsync(org));

        var asked = (await cli.RunAtTerminalAsync("AskedKey1234\ny\n", "keys", "edit", org.KeyId.ToString())).Exit(0);
        Assert.Contains("New key value:", asked.Err);
        Assert.Contains("Change the value of the Cloud Service key", asked.Err);
        Assert.Equal("AskedKey1234", await App.KeyValueAsync(org));
    }
}
