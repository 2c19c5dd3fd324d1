using System.Net;
using System.Text.Json;
using Keygate.Cli;

namespace Keygate.Tests;

/// <summary>The keygate CLI against a real Keygate on loopback: the org admin's side (legacy API) and every exit code.</summary>
public sealed class CliTests(CliServer server) : IClassFixture<CliServer>
{
    private KeygateApp App => server.App;

    private CliHarness Cli() => new(App, server.Url);

    private async Task<(TestOrg Org, string Key, CliHarness Cli)> LoggedInAsync(bool defaultLimits = false)
    {
        var org = await App.CreateOrgAsync(defaultLimits: defaultLimits);
        var key = await App.KeyValueAsync(org);
        var cli = Cli().LoginAs(org, key);
        (await cli.RunAsync("login")).Exit(ExitCodes.Success);
        return (org, key, cli);
    }

    private static JsonElement KeyOf(CliResult list, string type) =>
        list.Json().EnumerateArray().Single(k => k.GetProperty("keyType").GetString() == type);

    [Fact]
    public async Task TheOrgAdminFlowRunsFromLoginToLogout()
    {
        var org = await App.CreateOrgAsync();
        var key = await App.KeyValueAsync(org);
        var cli = Cli().LoginAs(org, key);

        var login = (await cli.RunAsync("login")).Exit(0);
        Assert.Contains($"as {org.Username}", login.Out);

        // list: a table with the value, and the server's JSON with --json.
        var table = (await cli.RunAsync("keys", "list")).Exit(0);
        Assert.Contains(key, table.Out);
        Assert.Contains("CLOUD_SERVICE", table.Out);
        Assert.Contains("ENABLED", table.Out);
        var cloud = KeyOf((await cli.RunAsync("keys", "list", "--json")).Exit(0), "CLOUD_SERVICE");
        Assert.Equal(key, cloud.GetProperty("keyValue").GetString());
        var id = cloud.GetProperty("id").GetInt64().ToString();

        // edit
        var edited = (await cli.RunWithStdinAsync("NewKey123456\n", "keys", "edit", id, "--value", "-", "--yes")).Exit(0);
        Assert.Contains("NewKey123456", edited.Out);
        Assert.Equal("NewKey123456", await App.KeyValueAsync(org));

        // regenerate: without --yes and without a terminal it refuses, and nothing changes.
        var refused = (await cli.RunAsync("keys", "regenerate", id)).Exit(ExitCodes.Usage);
        Assert.Contains("--yes", refused.Err);
        Assert.Equal("NewKey123456", await App.KeyValueAsync(org));
        // At a terminal: "n" keeps the key, "y" regenerates it.
        var declined = (await cli.RunAtTerminalAsync("n\n", "keys", "regenerate", id)).Exit(ExitCodes.Other);
        Assert.Contains("Regenerate the Cloud Service key", declined.Err);
        Assert.Equal("NewKey123456", await App.KeyValueAsync(org));
        var confirmed = (await cli.RunAtTerminalAsync("y\n", "keys", "regenerate", id)).Exit(0);
        var afterPrompt = await App.KeyValueAsync(org);
        Assert.NotEqual("NewKey123456", afterPrompt);
        Assert.Contains(afterPrompt, confirmed.Out);
        // With --yes and --json: the key object, parsed back.
        var regenerated = (await cli.RunAsync("keys", "regenerate", id, "--yes", "--json")).Exit(0).Json();
        Assert.Equal(long.Parse(id), regenerated.GetProperty("id").GetInt64());
        var newValue = regenerated.GetProperty("keyValue").GetString()!;
        Assert.Matches("^[A-Za-z0-9]{12}$", newValue);
        Assert.NotEqual(afterPrompt, newValue);
        Assert.Equal(newValue, await App.KeyValueAsync(org));

        // The sandbox key: add, regenerate, delete.
        var sandbox = (await cli.RunAsync("keys", "add", "--type", "SANDBOX_SUBMISSION", "--json")).Exit(0).Json();
        Assert.Equal("SANDBOX_SUBMISSION", sandbox.GetProperty("keyType").GetString());
        var sandboxId = sandbox.GetProperty("id").GetInt64().ToString();
        var sandboxValue = sandbox.GetProperty("keyValue").GetString()!;
        Assert.Equal(32, sandboxValue.Length);
        var all = (await cli.RunAsync("keys", "list", "--type", "ALL")).Exit(0);
        Assert.Contains(sandboxValue, all.Out);
        Assert.Contains(newValue, all.Out);
        var sandboxNew = (await cli.RunAsync("keys", "regenerate", sandboxId, "--yes", "--json")).Exit(0).Json().GetProperty("keyValue").GetString();
        Assert.NotEqual(sandboxValue, sandboxNew);
        var sandboxDeleted = (await cli.RunAsync("keys", "delete", sandboxId, "--yes", "--json")).Exit(0).Json();
        Assert.True(sandboxDeleted.GetProperty("deleted").GetBoolean());
        Assert.False(sandboxDeleted.GetProperty("sessionEnded").GetBoolean());
        Assert.Empty((await cli.RunAsync("keys", "list", "--type", "SANDBOX_SUBMISSION", "--json")).Exit(0).Json().EnumerateArray());

        // usage: a table, and JSON parsed back; the usage output shows no key value.
        var usage = (await cli.RunAsync("usage")).Exit(0);
        Assert.Contains("Calls", usage.Out);
        Assert.Contains("light (GET)", usage.Out);
        Assert.DoesNotContain(newValue, usage.Out);
        var usageJson = (await cli.RunAsync("usage", "--json")).Exit(0).Json();
        Assert.True(usageJson.GetProperty("calls").GetInt64() > 5);
        Assert.Equal(1_000_000_000, usageJson.GetProperty("threshold").GetInt64());

        // Deleting the Cloud Service key ends the session: the CLI says so and removes the stored session.
        Assert.True(File.Exists(cli.SessionPath));
        var deleted = (await cli.RunAsync("keys", "delete", id, "--yes")).Exit(0);
        Assert.Contains("Deleted the Cloud Service key", deleted.Out);
        Assert.Contains("added in the portal", deleted.Out);
        Assert.False(File.Exists(cli.SessionPath));
        (await cli.RunAsync("keys", "list")).Exit(ExitCodes.Authentication);

        var logout = (await cli.RunAsync("logout")).Exit(0);
        Assert.Contains("Not logged in", logout.Out);
        // The CLI never printed the password.
        Assert.DoesNotContain(org.Password, login.Out + login.Err + table.Out + deleted.Out + logout.Out);
    }

    [Fact]
    public async Task LogoutEndsTheSessionOnTheServerAndRemovesTheFile()
    {
        var (_, _, cli) = await LoggedInAsync();
        var stored = JsonDocument.Parse(File.ReadAllText(cli.SessionPath)).RootElement;
        var sessionId = stored.GetProperty("sessionId").GetString()!;
        using var session = App.SessionClient(sessionId);
        await (await session.GetAsync("/api/v1/auth")).AssertOk();

        var r = (await cli.RunAsync("logout", "--json")).Exit(0);
        Assert.True(r.Json().GetProperty("loggedOut").GetBoolean());
        Assert.False(File.Exists(cli.SessionPath));
        await (await session.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        (await cli.RunAsync("keys", "list")).Fails(ExitCodes.Authentication, "Not logged in");
    }

    [Fact]
    public async Task LoginStoresOnlyTheUrlAndSessionInAFileOnlyTheUserCanRead()
    {
        var (org, key, cli) = await LoggedInAsync();
        var text = File.ReadAllText(cli.SessionPath);
        Assert.DoesNotContain(org.Password, text);
        Assert.DoesNotContain(key, text);
        var stored = JsonDocument.Parse(text).RootElement;
        Assert.Equal(server.Url.ToString(), stored.GetProperty("url").GetString());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cli.SessionPath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(cli.ConfigDir) & (UnixFileMode)0x1FF);
        }
        // The stored id is a working JSESSIONID.
        using var session = App.SessionClient(stored.GetProperty("sessionId").GetString()!);
        await (await session.GetAsync("/api/v1/auth")).AssertOk();

        // A second login replaces the stored session and ends the first one on the server.
        (await cli.RunAsync("login", "--json")).Exit(0);
        await (await session.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        (await cli.RunAsync("keys", "list")).Exit(0);
    }

    [Fact]
    public async Task LoginAsksForThePasswordAndKeyAtATerminalAndNeverPrintsThem()
    {
        var org = await App.CreateOrgAsync();
        var key = await App.KeyValueAsync(org);
        var cli = Cli();
        var r = (await cli.RunAtTerminalAsync($"{org.Password}\n{key}\n", "login", "--url", server.Url.ToString(), "--username", org.Username)).Exit(0);
        Assert.Contains("Password:", r.Err);
        Assert.Contains("Cloud Service API key:", r.Err);
        Assert.DoesNotContain(org.Password, r.Out + r.Err);
        Assert.DoesNotContain(key, r.Out + r.Err);
        (await cli.RunAsync("keys", "list")).Exit(0);
    }

    [Fact]
    public async Task LoginWithoutAPasswordAndWithoutATerminalIsAUsageError()
    {
        var org = await App.CreateOrgAsync();
        var cli = Cli();
        cli.Vars["KEYGATE_USERNAME"] = org.Username;
        (await cli.RunAsync("login")).Fails(ExitCodes.Usage, "KEYGATE_PASSWORD");
        cli.Vars["KEYGATE_PASSWORD"] = org.Password;
        (await cli.RunAsync("login")).Fails(ExitCodes.Usage, "KEYGATE_API_KEY");
        cli.Vars["KEYGATE_API_KEY"] = "short";
        (await cli.RunAsync("login")).Fails(ExitCodes.Usage, "12 characters");
        cli.Vars["KEYGATE_URL"] = null;
        (await cli.RunAsync("login")).Fails(ExitCodes.Usage, "--url");
        Assert.False(File.Exists(cli.SessionPath));
    }

    [Fact]
    public async Task AWrongPasswordExits3WithTheServersCodeAndMessage()
    {
        var org = await App.CreateOrgAsync();
        var key = await App.KeyValueAsync(org);
        var cli = Cli().LoginAs(org, key);
        cli.Vars["KEYGATE_PASSWORD"] = "wrong password 123";
        var r = (await cli.RunAsync("login")).Fails(ExitCodes.Authentication, "400 INVALID_USERNAME_OR_PASSWORD", "Invalid username or password.");
        Assert.DoesNotContain("wrong password 123", r.Out + r.Err);
        Assert.False(File.Exists(cli.SessionPath));
    }

    [Fact]
    public async Task AWrongKeyExits3WithAuthenticationFailed()
    {
        var org = await App.CreateOrgAsync();
        var cli = Cli().LoginAs(org, "WrongKey1234");
        (await cli.RunAsync("login")).Fails(ExitCodes.Authentication, "400 AUTHENTICATION_FAILED", "Authentication failed.");
    }

    [Fact]
    public async Task ADisabledKeyExits5AtLoginAndOnTheSessionWhichSurvivesUntilItIsEnabled()
    {
        var (org, key, cli) = await LoggedInAsync();
        var provider = Cli().AsProvider();
        var disabled = (await provider.RunAsync("provider", "keys", "disable", org.Id.ToString(), "--reason", "TERMS_VIOLATION", "--json")).Exit(0).Json();
        Assert.Equal("DISABLED", disabled.GetProperty("status").GetString());

        var r = (await cli.RunAsync("keys", "list")).Fails(ExitCodes.ConflictOrState, "403 API_KEY_DISABLED");
        Assert.True(File.Exists(cli.SessionPath)); // the session survives a disable
        var fresh = Cli().LoginAs(org, key);
        (await fresh.RunAsync("login")).Fails(ExitCodes.ConflictOrState, "403 API_KEY_DISABLED");
        Assert.False(File.Exists(fresh.SessionPath));

        (await provider.RunAsync("provider", "keys", "enable", org.Id.ToString())).Exit(0);
        (await cli.RunAsync("keys", "list")).Exit(0);
        (await fresh.RunAsync("login")).Exit(0);
    }

    [Fact]
    public async Task AnExpiredOrMissingSubscriptionExits5()
    {
        var (org, key, cli) = await LoggedInAsync();
        var provider = Cli().AsProvider();
        (await provider.RunAsync("provider", "subscription", "expire", org.Id.ToString())).Exit(0);
        (await cli.RunAsync("usage")).Fails(ExitCodes.ConflictOrState, "403 SUBSCRIPTION_EXPIRED");

        var renewed = (await provider.RunAsync("provider", "subscription", "renew", org.Id.ToString(), "--days", "30", "--json")).Exit(0).Json();
        Assert.Equal(App.Clock.GetUtcNow().ToUnixTimeSeconds() + 30 * 86400, renewed.GetProperty("subscription").GetProperty("expiresAt").GetInt64());
        (await cli.RunAsync("usage")).Exit(0);

        (await provider.RunAsync("provider", "subscription", "set", org.Id.ToString(), "--enabled", "false")).Exit(0);
        (await Cli().LoginAs(org, key).RunAsync("login")).Fails(ExitCodes.ConflictOrState, "403 API_SUBSCRIPTION_REQUIRED");
    }

    [Fact]
    public async Task ASessionThatEndedExits3AndTheStoredSessionIsRemoved()
    {
        var (_, _, cli) = await LoggedInAsync();
        var sessionId = JsonDocument.Parse(File.ReadAllText(cli.SessionPath)).RootElement.GetProperty("sessionId").GetString()!;
        using (var other = App.SessionClient(sessionId))
            await (await other.DeleteAsync("/api/v1/auth")).AssertOk(HttpStatusCode.NoContent);

        var r = (await cli.RunAsync("keys", "list")).Fails(ExitCodes.Authentication, "401 SESSION_NOT_VALID");
        Assert.Contains("keygate login", r.Err);
        Assert.False(File.Exists(cli.SessionPath));
    }

    [Fact]
    public async Task NotFoundAndAccessDeniedExit4()
    {
        var (org, key, cli) = await LoggedInAsync();
        (await cli.RunAsync("keys", "regenerate", "999999999", "--yes")).Fails(ExitCodes.ForbiddenOrNotFound, "404 RESOURCE_NOT_FOUND");

        // A READ_ONLY admin may look but not change.
        var readOnly = Scenario.Unique("ro");
        await (await App.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/admins",
            Scenario.Json(new { username = readOnly, password = Scenario.Password, role = "READ_ONLY" }))).AssertOk(HttpStatusCode.Created);
        var viewer = Cli().LoginAs(org with { Username = readOnly }, key);
        (await viewer.RunAsync("login")).Exit(0);
        (await viewer.RunAsync("keys", "list")).Exit(0);
        (await viewer.RunAsync("keys", "regenerate", org.KeyId.ToString(), "--yes")).Fails(ExitCodes.ForbiddenOrNotFound, "403 ACCESS_DENIED");
    }

    [Fact]
    public async Task ConflictsExit5AndInvalidInputExits2()
    {
        var (org, key, cli) = await LoggedInAsync();
        (await cli.RunAsync("keys", "add")).Exit(0);
        (await cli.RunAsync("keys", "add")).Fails(ExitCodes.ConflictOrState, "409 KEY_ALREADY_EXISTS");
        (await cli.RunWithStdinAsync(key, "keys", "edit", org.KeyId.ToString(), "--value", "-", "--yes")).Fails(ExitCodes.ConflictOrState, "409 KEY_VALUE_UNCHANGED");
        (await cli.RunWithStdinAsync("short", "keys", "edit", org.KeyId.ToString(), "--value", "-", "--yes")).Fails(ExitCodes.Usage, "400 INVALID_KEY_VALUE");
        Assert.Equal(key, await App.KeyValueAsync(org));
    }

    [Fact]
    public async Task BadArgumentsExit2()
    {
        var cli = Cli();
        (await cli.RunAsync("keys", "edit", "12")).Exit(ExitCodes.Usage);           // no new value: no KEYGATE_NEW_KEY, no '--value -', no terminal
        (await cli.RunAsync("keys", "list", "--type", "NOPE")).Exit(ExitCodes.Usage);
        (await cli.RunAsync("nonsense")).Exit(ExitCodes.Usage);
        (await cli.RunAsync("keys")).Exit(ExitCodes.Usage);                        // no subcommand
        (await cli.RunAsync("keys", "delete", "12")).Fails(ExitCodes.Usage, "--yes"); // no terminal, no --yes: refused before any request
    }

    [Fact]
    public async Task RateLimitedExits6AfterOneRetryThatHonoursRetryAfter()
    {
        var (_, _, cli) = await LoggedInAsync(defaultLimits: true);
        // The fake clock stands still, so the retry meets the same second's window: GET is 2 per second.
        (await cli.RunAsync("keys", "list")).Exit(0);
        (await cli.RunAsync("keys", "list")).Exit(0);
        var r = (await cli.RunAsync("keys", "list")).Fails(ExitCodes.RateLimited, "429 RATE_LIMIT_EXCEEDED", "Rate Limit (2/SECOND) exceeded");
        Assert.Equal([TimeSpan.FromSeconds(1)], cli.Delays);
        Assert.Contains("retried once", r.Err);
    }

    [Fact]
    public async Task TheRetryAfterARateLimitSucceedsOnceTheWindowHasPassed()
    {
        var (_, _, cli) = await LoggedInAsync(defaultLimits: true);
        cli.OnDelay = wait => App.Clock.Advance(wait);
        (await cli.RunAsync("keys", "list")).Exit(0);
        (await cli.RunAsync("keys", "list")).Exit(0);
        var r = (await cli.RunAsync("keys", "list", "--json")).Exit(0);
        Assert.Equal([TimeSpan.FromSeconds(1)], cli.Delays);
        Assert.Contains("retrying once in 1 s", r.Err);
        Assert.Single(r.Json().EnumerateArray()); // stdout stays pure JSON
    }

    [Fact]
    public async Task AnUnreachableServerOrA5xxExits7()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var cli = Cli().AsProvider();
        (await cli.RunAsync("provider", "orgs", "list", "--url", $"http://127.0.0.1:{port}")).Fails(ExitCodes.ServerOrNetwork, "Cannot reach");

        // A 5xx answer prints the problem's code and detail.
        var failing = Cli().AsProvider();
        failing.Handler = () => new StubHandler(HttpStatusCode.ServiceUnavailable,
            """{"type":"urn:keygate:error:SERVICE_UNAVAILABLE","title":"Service unavailable","status":503,"detail":"The database is unavailable.","code":"SERVICE_UNAVAILABLE"}""");
        (await failing.RunAsync("provider", "orgs", "list")).Fails(ExitCodes.ServerOrNetwork, "503 SERVICE_UNAVAILABLE", "The database is unavailable.");
    }

    [Fact]
    public async Task EveryCommandHasHelpWithExamples()
    {
        var paths = new List<string[]>();
        void Walk(System.CommandLine.Command c, string[] path)
        {
            paths.Add(path);
            foreach (var s in c.Subcommands) Walk(s, [.. path, s.Name]);
        }
        Walk(CliApp.Build(new Keygate.Cli.Cli(new CliEnvironment { Out = TextWriter.Null, Error = TextWriter.Null })), []);
        Assert.True(paths.Count > 20);
        foreach (var path in paths)
        {
            var r = (await Cli().RunAsync([.. path, "--help"])).Exit(0);
            Assert.Contains("Usage:", r.Out);
            Assert.Contains("Examples:", r.Out);
        }
    }

    [Fact]
    public async Task ShellCompletionUsesTheSuggestDirective()
    {
        var cli = Cli();
        var r = (await cli.RunAsync("[suggest:11]", "keygate key")).Exit(0);
        Assert.Equal("keys", r.Out.Trim());
        r = (await cli.RunAsync("[suggest:27]", "keygate keys list --type SA")).Exit(0);
        Assert.Equal("SANDBOX_SUBMISSION", r.Out.Trim());
        r = (await cli.RunAsync("completion", "bash")).Exit(0);
        Assert.Contains("complete -o default -F _keygate_complete keygate", r.Out);
    }

    [Theory]
    [InlineData("AbCdEfGh1234", "1700000123456", "bCdEfGC1d2E3")]
    [InlineData("K7m2Q9x4R1p8", "1718049275931", "m491272918R4")]
    [InlineData("AbCdEfGh1234", "1700000012345", "AbCdEfCC1d2E")]
    public void TheCliObfuscatesTheKeyAsContractA1Says(string key, string ts, string expected) =>
        Assert.Equal(expected, Obfuscation.Obfuscate(key, ts));

    private sealed class StubHandler(HttpStatusCode status, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/problem+json") });
    }
}
