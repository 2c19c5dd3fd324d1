using Keygate.Cli;

namespace Keygate.Tests;

/// <summary>'keygate call METHOD PATH': any route on the stored session, the body from a file or stdin, JSON printed for reading.</summary>
public sealed class CliCallTests(CliServer server) : IClassFixture<CliServer>
{
    private KeygateApp App => server.App;

    private async Task<(TestOrg Org, CliHarness Cli)> LoggedInAsync()
    {
        var org = await App.CreateOrgAsync();
        var cli = new CliHarness(App, server.Url).LoginAs(org, await App.KeyValueAsync(org));
        (await cli.RunAsync("login")).Exit(ExitCodes.Success);
        return (org, cli);
    }

    [Fact]
    public async Task CallGetPrintsTheAnswerIndentedAndJsonPrintsItAsItCame()
    {
        var (_, cli) = await LoggedInAsync();
        var pretty = (await cli.RunAsync("call", "GET", "/api/v1/usage")).Exit(0);
        Assert.Contains("\n  \"windowStart\": ", pretty.Out);
        var raw = (await cli.RunAsync("call", "get", "/api/v1/usage", "--json")).Exit(0);
        Assert.StartsWith("{\"windowStart\":", raw.Out.Trim());
    }

    [Fact]
    public async Task CallPostSendsTheBodyFromStdinOrAFile()
    {
        var (org, cli) = await LoggedInAsync();
        var added = (await cli.RunWithStdinAsync("{\"keyType\":\"SANDBOX_SUBMISSION\"}", "call", "POST", "/api/v1/apiKeys", "--data", "-", "--json")).Exit(0);
        var id = added.Json().GetProperty("id").GetInt64();
        Assert.Equal("SANDBOX_SUBMISSION", added.Json().GetProperty("keyType").GetString());
        var file = Path.Combine(Path.GetTempPath(), $"keygate-call-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, "{}");
        try
        {
            var regenerated = (await cli.RunAsync("call", "POST", $"/api/v1/apiKeys/{id}/regenerate", "--data", file, "--json")).Exit(0);
            Assert.NotEqual(added.Json().GetProperty("keyValue").GetString(), regenerated.Json().GetProperty("keyValue").GetString());
        }
        finally { File.Delete(file); }
        Assert.NotNull(org);
    }

    [Fact]
    public async Task CallAnswersTheServersRefusalWithItsExitCodeAndABadPathWithAUsageError()
    {
        var (_, cli) = await LoggedInAsync();
        var missing = (await cli.RunAsync("call", "DELETE", "/api/v1/apiKeys/999999999")).Exit(ExitCodes.ForbiddenOrNotFound);
        Assert.Contains("RESOURCE_NOT_FOUND", missing.Err);
        (await cli.RunAsync("call", "GET", "api/v1/usage")).Exit(ExitCodes.Usage);
        (await cli.RunAsync("call", "GET", "//evil.example/api/v1/usage")).Exit(ExitCodes.Usage);
        (await cli.RunAsync("call", "GET", "/api/v1/usage", "--data", "/no/such/file.json")).Exit(ExitCodes.Usage);
        (await cli.RunAsync("call", "TRACE", "/api/v1/usage")).Exit(ExitCodes.Usage);
    }
}
