namespace Keygate.Seed;

public sealed record SeedOptions(string Database, string Kek, int Orgs, string? IdsOut, int Ids, int Iterations)
{
    public static SeedOptions Parse(string[] args)
    {
        var named = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument {args[i]}");
            named[args[i][2..]] = args[i + 1];
        }
        string Required(string name) => named.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        int Number(string name, int fallback) => named.TryGetValue(name, out var v) ? int.Parse(v) : fallback;
        return new SeedOptions(Required("db"), Required("kek"), Number("orgs", 1000), named.GetValueOrDefault("ids-out"),
            Number("ids", 1000), Number("iterations", 100_000));
    }
}
