namespace Keygate.Cli;

/// <summary>
/// Everything the CLI takes from the outside world, so it runs the same in a terminal and in-process in tests:
/// the streams, the environment variables, whether a person can answer prompts, the clock, the HTTP handler and
/// the wait before a retry.
/// </summary>
public sealed class CliEnvironment
{
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public TextReader In { get; init; } = TextReader.Null;
    public Func<string, string?> GetVariable { get; init; } = _ => null;
    /// <summary>True when a person can answer prompts (stdin is a terminal).</summary>
    public bool IsInteractive { get; init; }
    /// <summary>Reads a secret without echo; by default a line from <see cref="In"/>.</summary>
    public Func<string?>? ReadSecret { get; init; }
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    public Func<HttpMessageHandler> CreateHandler { get; init; } = DefaultHandler;
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;
    /// <summary>Width of tables; null lets Spectre.Console detect it.</summary>
    public int? Width { get; init; }
    /// <summary>Whether tables may use colour and ANSI escapes.</summary>
    public bool Ansi { get; init; }

    /// <summary>No cookie container and no redirects: the CLI sends exactly the session it means to.</summary>
    public static HttpMessageHandler DefaultHandler() => new SocketsHttpHandler
    {
        UseCookies = false,
        AllowAutoRedirect = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    };

    /// <summary>The real console and process environment.</summary>
    public static CliEnvironment FromConsole() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        In = Console.In,
        GetVariable = Environment.GetEnvironmentVariable,
        IsInteractive = !Console.IsInputRedirected,
        ReadSecret = Console.IsInputRedirected ? null : ReadConsoleSecret,
        Width = Console.IsOutputRedirected ? 200 : null,
        Ansi = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null,
    };

    private static string? ReadConsoleSecret()
    {
        var chars = new List<char>();
        while (true)
        {
            var k = Console.ReadKey(intercept: true);
            if (k.Key == ConsoleKey.Enter) break;
            if (k.Key == ConsoleKey.Backspace) { if (chars.Count > 0) chars.RemoveAt(chars.Count - 1); continue; }
            if (k.Key == ConsoleKey.C && k.Modifiers.HasFlag(ConsoleModifiers.Control)) return null;
            if (!char.IsControl(k.KeyChar)) chars.Add(k.KeyChar);
        }
        Console.Error.WriteLine();
        return new string(chars.ToArray());
    }
}
