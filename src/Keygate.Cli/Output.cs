using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Keygate.Cli;

/// <summary>
/// Where a command's results go: tables for people, or (with --json) one JSON document on stdout for scripts.
/// Notes meant for a person go to stdout with tables and to stderr with --json, so stdout stays parseable.
/// </summary>
public sealed class Output(CliEnvironment env, bool json)
{
    private IAnsiConsole? _console;

    public bool Json => json;

    private IAnsiConsole Console => _console ??= CreateConsole();

    private IAnsiConsole CreateConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = env.Ansi ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = env.Ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(env.Out),
        });
        if (env.Width is { } w) console.Profile.Width = w;
        return console;
    }

    /// <summary>A line of text for a person.</summary>
    public void Note(string text) => (json ? env.Error : env.Out).WriteLine(text);

    /// <summary>The server's JSON body as it came (already a stable, documented shape).</summary>
    public void Raw(string body) => env.Out.WriteLine(body.Trim());

    /// <summary>A JSON document the CLI composes itself (documented in the README).</summary>
    public void Document(object value) => env.Out.WriteLine(JsonSerializer.Serialize(value, ApiClient.JsonOptions));

    public void Write(IRenderable renderable) => Console.Write(renderable);

    public static Table Table(params string[] columns)
    {
        var t = new Table { Border = TableBorder.Rounded };
        foreach (var c in columns) t.AddColumn(new TableColumn(new Text(c, new Style(decoration: Decoration.Bold))));
        return t;
    }

    /// <summary>Adds a row of plain text (never markup: values come from the server).</summary>
    public static void Row(Table t, params string?[] cells) => t.AddRow(cells.Select(c => (IRenderable)new Text(c ?? "")).ToArray());

    /// <summary>A two-column list of names and values.</summary>
    public static Grid Pairs(IEnumerable<(string Name, string? Value)> pairs)
    {
        var g = new Grid();
        g.AddColumn(new GridColumn().NoWrap().PadRight(2));
        g.AddColumn();
        foreach (var (name, value) in pairs) g.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value ?? ""));
        return g;
    }

    /// <summary>Epoch seconds as an ISO-like UTC time.</summary>
    public static string Time(long? epochSeconds) => epochSeconds is { } s
        ? DateTimeOffset.FromUnixTimeSeconds(s).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
        : "-";

    public static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
}
