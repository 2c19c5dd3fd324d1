using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Keygate.Cli.Commands;

namespace Keygate.Cli;

/// <summary>The whole CLI, runnable in-process: Program.cs passes the real console, tests pass their own.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken ct = default)
    {
        var cli = new Cli(env);
        var root = Build(cli);
        var parsed = root.Parse(args);
        var config = new InvocationConfiguration { Output = env.Out, Error = env.Error, EnableDefaultExceptionHandler = false };
        if (parsed.Action is ParseErrorAction)
        {
            await parsed.InvokeAsync(config, ct); // prints the errors, and the help of the command
            return ExitCodes.Usage;
        }
        try
        {
            return await parsed.InvokeAsync(config, ct);
        }
        catch (CliException e)
        {
            env.Error.WriteLine($"error: {e.Message}");
            if (e.Hint is not null) env.Error.WriteLine(e.Hint);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            env.Error.WriteLine("Cancelled.");
            return ExitCodes.Other;
        }
    }

    public static RootCommand Build(Cli cli)
    {
        var root = new RootCommand("keygate: manage an organization's Keygate API keys (legacy API) and, for providers, organizations.");
        root.Options.Add(cli.JsonOption);
        cli.Examples[root] =
        [
            "keygate login --url https://keygate.example --username admin@acme.example",
            "keygate keys list",
            "keygate keys regenerate 1234 --yes --json",
            "KEYGATE_PROVIDER_TOKEN=kgp_… keygate provider orgs list --url https://keygate.example",
        ];
        foreach (var c in LoginCommands.Create(cli)) root.Subcommands.Add(c);
        root.Subcommands.Add(KeysCommands.Create(cli));
        root.Subcommands.Add(AdminsCommands.Create(cli));
        root.Subcommands.Add(RolesCommands.Create(cli));
        root.Subcommands.Add(PasswordCommand.Create(cli));
        root.Subcommands.Add(UsageCommand.Create(cli));
        root.Subcommands.Add(CallCommand.Create(cli));
        root.Subcommands.Add(ProviderCommands.Create(cli));
        root.Subcommands.Add(CompletionCommand.Create(cli));

        // Every --help ends with the command's examples.
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExamples((HelpAction)help.Action!, cli.Examples);
        return root;
    }

    private sealed class HelpWithExamples(HelpAction inner, Dictionary<Command, string[]> examples) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var result = inner.Invoke(parseResult);
            if (examples.TryGetValue(parseResult.CommandResult.Command, out var lines))
            {
                var output = parseResult.InvocationConfiguration.Output;
                output.WriteLine("Examples:");
                foreach (var line in lines) output.WriteLine("  " + line);
                output.WriteLine();
            }
            return result;
        }
    }
}

/// <summary>What every command shares: the environment, the global options, prompts and the two API clients.</summary>
public sealed class Cli(CliEnvironment env)
{
    public CliEnvironment Env => env;
    public Dictionary<Command, string[]> Examples { get; } = [];
    public SessionFile Sessions { get; } = new(env);

    public Option<bool> JsonOption { get; } = new("--json")
    {
        Description = "Print JSON for scripts (the server's body, or the shape the README documents) instead of tables",
        Recursive = true,
    };

    public Output Output(ParseResult pr) => new(env, pr.GetValue(JsonOption));

    /// <summary>A command with its help text and examples.</summary>
    public Command Command(string name, string description, params string[] examples)
    {
        var c = new Command(name, description);
        if (examples.Length > 0) Examples[c] = examples;
        return c;
    }

    public static Option<bool> YesOption() => new("--yes", "-y") { Description = "Do it without asking (needed when there is no terminal)" };

    /// <summary>
    /// Whether an irreversible change must be confirmed: not with --yes. Without a terminal there is nobody to ask,
    /// which is a usage error (exit 2), so a script never hangs on a prompt or does something it did not say.
    /// Checked before any request is sent.
    /// </summary>
    public bool MustAsk(bool yes)
    {
        if (yes) return false;
        if (!env.IsInteractive)
            throw new CliException(ExitCodes.Usage, "This change cannot be undone and there is no terminal to confirm it: pass --yes.");
        return true;
    }

    /// <summary>Asks a yes/no question on the terminal; anything but y or yes is no.</summary>
    public bool Ask(string question)
    {
        env.Error.Write($"{question} [y/N] ");
        var answer = env.In.ReadLine()?.Trim();
        if (answer is not null && (answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase)))
            return true;
        env.Error.WriteLine("Cancelled; nothing was changed.");
        return false;
    }

    /// <summary>
    /// A secret from an environment variable, else from a prompt without echo. With an <paramref name="option"/>, that
    /// option may only say "-": read one line from stdin. A value written on the command line stays in the shell's
    /// history and shows in every process listing, so it is refused (exit 2) with a word on the other ways.
    /// </summary>
    public string Secret(string variable, string prompt, string? option = null, string? given = null)
    {
        var what = prompt.ToLowerInvariant();
        var stdin = option is null ? "" : $", pass '{option} -' and write it to stdin,";
        if (given is not null)
        {
            if (given != "-")
                throw new CliException(ExitCodes.Usage, $"{option} takes no {what} on the command line (shell history and process listings would keep it).",
                    $"Set {variable}{stdin} or leave {option} out at a terminal to be asked without echo.");
            var line = env.In.ReadLine();
            if (string.IsNullOrEmpty(line)) throw new CliException(ExitCodes.Usage, $"No {what} on stdin.");
            return line;
        }
        if (env.GetVariable(variable) is { Length: > 0 } value) return value;
        if (!env.IsInteractive)
            throw new CliException(ExitCodes.Usage, $"{prompt} is needed: set {variable}{stdin} or run in a terminal to be asked.");
        env.Error.Write($"{prompt}: ");
        var read = env.ReadSecret is { } reader ? reader() : env.In.ReadLine();
        if (string.IsNullOrEmpty(read)) throw new CliException(ExitCodes.Usage, $"No {what} was given.");
        return read;
    }

    /// <summary>--url, else KEYGATE_URL.</summary>
    public Uri Url(string? option)
    {
        var url = option ?? env.GetVariable("KEYGATE_URL");
        if (string.IsNullOrWhiteSpace(url)) throw new CliException(ExitCodes.Usage, "Give the server with --url or KEYGATE_URL.");
        return ApiClient.NormalizeUrl(url);
    }

    /// <summary>A client on the stored legacy session (keygate login).</summary>
    public (ApiClient Client, StoredSession Session) Legacy()
    {
        var session = Sessions.Read() ?? throw new CliException(ExitCodes.Authentication, "Not logged in.", "Run 'keygate login' first.");
        var client = new ApiClient(env, ApiClient.NormalizeUrl(session.Url), r =>
        {
            // Both spellings of the session that the contract accepts; a handler with its own cookie jar may drop one.
            r.Headers.TryAddWithoutValidation("Cookie", $"JSESSIONID={session.SessionId}");
            r.Headers.TryAddWithoutValidation("JSessionID", session.SessionId);
        });
        return (client, session);
    }

    /// <summary>A client on the provider API with KEYGATE_PROVIDER_TOKEN.</summary>
    public ApiClient Provider(string? url)
    {
        var baseUrl = Url(url);
        var token = env.GetVariable("KEYGATE_PROVIDER_TOKEN");
        if (string.IsNullOrWhiteSpace(token))
            throw new CliException(ExitCodes.Authentication, "No provider token: set KEYGATE_PROVIDER_TOKEN (kgp_… or kgs_…).");
        return new ApiClient(env, baseUrl, r => r.Headers.Authorization = new("Bearer", token.Trim()));
    }

    /// <summary>Runs a legacy call; a 401 means the stored session is gone, so the file goes too.</summary>
    public async Task<T> OnSessionAsync<T>(Func<ApiClient, StoredSession, Task<T>> call)
    {
        var (client, session) = Legacy();
        using (client)
        {
            try
            {
                return await call(client, session);
            }
            catch (ApiException e) when (e.Status == 401)
            {
                Sessions.Delete();
                throw new ApiException(e.Status, e.Code, e.ServerMessage,
                    "The session has ended (logged out, idle for 30 minutes, or its key was deleted); the stored session was removed. Run 'keygate login' again.");
            }
        }
    }
}
