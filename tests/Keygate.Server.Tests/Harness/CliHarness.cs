using System.Text.Json;
using Keygate.Cli;

namespace Keygate.Tests;

/// <summary>A real Keygate served on a loopback socket for the CLI tests of one class.</summary>
public sealed class CliServer : IAsyncDisposable
{
    public KeygateApp App { get; } = new();
    public Uri Url { get; }

    public CliServer() => Url = App.StartKestrel();

    /// <summary>A new org whose first admin is logged in on a CLI of their own.</summary>
    public async Task<(TestOrg Org, string Key, CliHarness Cli)> LoggedInAsync()
    {
        var org = await App.CreateOrgAsync();
        var key = await App.KeyValueAsync(org);
        var cli = new CliHarness(App, Url).LoginAs(org, key);
        (await cli.RunAsync("login")).Exit(ExitCodes.Success);
        return (org, key, cli);
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}

public sealed record CliResult(int ExitCode, string Out, string Err)
{
    public JsonElement Json() => JsonDocument.Parse(Out).RootElement.Clone();
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
}

/// <summary>
/// Runs the CLI in-process the way a user would in a shell: its own config folder (so its session file is
/// isolated), environment variables, the app's fake clock and a socket handler to the loopback server.
/// </summary>
public sealed class CliHarness(KeygateApp app, Uri url)
{
    public string ConfigDir { get; } = Directory.CreateTempSubdirectory("keygate-cli-").FullName;
    public Dictionary<string, string?> Vars { get; } = new();
    public List<TimeSpan> Delays { get; } = [];
    /// <summary>What a wait before a retry does; by default nothing (the fake clock stays where it is).</summary>
    public Action<TimeSpan> OnDelay { get; set; } = _ => { };
    public Func<HttpMessageHandler> Handler { get; set; } = () => new SocketsHttpHandler { UseCookies = false };
    public string SessionPath => Path.Combine(ConfigDir, "session.json");

    /// <summary>Sets what 'keygate login' reads from the environment.</summary>
    public CliHarness LoginAs(TestOrg org, string key)
    {
        Vars["KEYGATE_USERNAME"] = org.Username;
        Vars["KEYGATE_PASSWORD"] = org.Password;
        Vars["KEYGATE_API_KEY"] = key;
        return this;
    }

    public CliHarness AsProvider(string? token = null)
    {
        Vars["KEYGATE_PROVIDER_TOKEN"] = token ?? app.OperatorToken;
        return this;
    }

    /// <summary>Without a terminal (like a script or CI).</summary>
    public Task<CliResult> RunAsync(params string[] args) => RunCoreAsync("", false, args);

    /// <summary>As if a person at a terminal typed <paramref name="typed"/> (lines) when asked.</summary>
    public Task<CliResult> RunAtTerminalAsync(string typed, params string[] args) => RunCoreAsync(typed, true, args);

    /// <summary>Without a terminal, with <paramref name="stdin"/> piped in (like 'printf … | keygate …').</summary>
    public Task<CliResult> RunWithStdinAsync(string stdin, params string[] args) => RunCoreAsync(stdin, false, args);

    private async Task<CliResult> RunCoreAsync(string input, bool terminal, string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var env = new CliEnvironment
        {
            Out = stdout,
            Error = stderr,
            In = new StringReader(input),
            IsInteractive = terminal,
            GetVariable = name => name switch
            {
                _ when Vars.TryGetValue(name, out var v) => v,
                "KEYGATE_CONFIG_DIR" => ConfigDir,
                "KEYGATE_URL" => url.ToString(),
                _ => null,
            },
            Clock = app.Clock,
            CreateHandler = Handler,
            Delay = (wait, _) => { Delays.Add(wait); OnDelay(wait); return Task.CompletedTask; },
            Width = 250,
        };
        var code = await CliApp.RunAsync(args, env);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }
}

public static class CliAssert
{
    public static CliResult Exit(this CliResult r, int code)
    {
        Assert.True(r.ExitCode == code, $"expected exit {code}, got {r}");
        return r;
    }

    /// <summary>The exit code, and the server's status, code and message on stderr.</summary>
    public static CliResult Fails(this CliResult r, int code, string serverCode, string? message = null)
    {
        r.Exit(code);
        Assert.Contains(serverCode, r.Err);
        if (message is not null) Assert.Contains(message, r.Err);
        return r;
    }
}
