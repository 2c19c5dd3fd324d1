namespace Keygate.Load;

/// <summary>"--name value" pairs.</summary>
public sealed class Args(Dictionary<string, string> values)
{
    public static Args Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"Expected --name value, got {args[i]}");
            values[args[i][2..]] = args[i + 1];
        }
        return new Args(values);
    }

    public string Required(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");

    public int Number(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v) : fallback;
}
