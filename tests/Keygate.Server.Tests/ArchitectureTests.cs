using ArchUnitNET.Domain;
using ArchUnitNET.Loader;

namespace Keygate.Tests;

/// <summary>
/// The server's layering (README, "Architecture"): surfaces → features → kernel, one way. A feature namespace
/// may use another feature only while no path leads back (no cycle), and no surface uses another surface.
/// Dependencies are read from the compiled code (signatures and method bodies), not from using lines.
/// </summary>
public sealed class ArchitectureTests
{
    public static readonly string[] Kernel = ["Kernel", "Data", "Secrets"];
    public static readonly string[] Features = ["Accounts", "Audit", "Cluster", "Identity", "Keys", "Metering", "Organizations", "Sessions", "Webhooks"];
    public static readonly string[] Surfaces = ["LegacyApi", "ProviderApi", "Portal", "Sandbox", "Ops", "Gateway"];
    /// <summary>The composition root (Program and start-up seeding) may use anything; nothing uses it.</summary>
    public static readonly string[] Top = ["Hosting"];

    private static readonly Lazy<Dictionary<string, HashSet<string>>> Graph = new(() => AreaGraph(typeof(Keygate.Kernel.KeygateError).Assembly));

    /// <summary>Area ("Keys", "Portal", …) → the areas its types depend on, from the assembly's IL.</summary>
    public static Dictionary<string, HashSet<string>> AreaGraph(System.Reflection.Assembly assembly)
    {
        var architecture = new ArchLoader().LoadAssemblies(assembly).Build();
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (var type in architecture.Types)
        {
            if (AreaOf(type.FullName) is not { } from) continue;
            var targets = graph.TryGetValue(from, out var set) ? set : graph[from] = [];
            foreach (var dependency in type.Dependencies)
                if (AreaOf(dependency.Target.FullName) is { } to && to != from) targets.Add(to);
        }
        return graph;
    }

    /// <summary>"Keygate.Keys.KeyLifecycle+&lt;DisableAsync&gt;d__3" → "Keys"; null outside Keygate's areas.</summary>
    public static string? AreaOf(string fullName)
    {
        // The portal's compiled Razor views live in a namespace of the framework's.
        if (fullName.StartsWith("AspNetCoreGeneratedDocument.", StringComparison.Ordinal)) return "Portal";
        if (!fullName.StartsWith("Keygate.", StringComparison.Ordinal)) return null;
        var rest = fullName["Keygate.".Length..];
        var dot = rest.IndexOfAny(['.', '+', '`']);
        var area = dot < 0 ? rest : rest[..dot];
        return Kernel.Concat(Features).Concat(Surfaces).Concat(Top).Contains(area) ? area : null;
    }

    [Fact]
    public void EveryNamespaceOfTheServerBelongsToOneLayer()
    {
        var architecture = new ArchLoader().LoadAssemblies(typeof(Keygate.Kernel.KeygateError).Assembly).Build();
        var unplaced = architecture.Types.Select(t => t.Namespace.FullName)
            .Where(n => n.StartsWith("Keygate.", StringComparison.Ordinal) && AreaOf(n + ".X") is null)
            .Distinct().Order().ToList();
        Assert.True(unplaced.Count == 0, $"Namespaces in no layer (add them to ArchitectureTests): {string.Join(", ", unplaced)}");
    }

    [Fact]
    public void DependenciesPointFromSurfacesToFeaturesToTheKernelAndNeverBack()
    {
        var wrong = Violations(Graph.Value);
        Assert.True(wrong.Count == 0, "Layering broken:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void FeatureNamespacesHaveNoCycle()
    {
        var cycles = Cycles(Graph.Value, Features.Concat(Kernel).ToHashSet());
        Assert.True(cycles.Count == 0, "Areas that depend on each other in a cycle:\n" + string.Join("\n", cycles.Select(c => string.Join(", ", c.Order()))));
    }

    [Fact]
    public void TheCheckFindsACycleAndASurfaceUsingASurface()
    {
        // The rules above must be able to fail: the same checks on a made-up graph that breaks each of them.
        var graph = new Dictionary<string, HashSet<string>>
        {
            ["Keys"] = ["Sessions", "Kernel"],
            ["Sessions"] = ["Keys"],
            ["Portal"] = ["ProviderApi"],
            ["Kernel"] = ["Data"],
            ["Data"] = ["Keys"],
        };
        Assert.Contains(Cycles(graph, Features.Concat(Kernel).ToHashSet()), c => c.Contains("Keys") && c.Contains("Sessions"));
        var wrong = Violations(graph);
        Assert.Contains("surface Portal uses surface ProviderApi", wrong);
        Assert.Contains("kernel Data uses feature Keys", wrong);
    }

    public static List<string> Violations(Dictionary<string, HashSet<string>> graph)
    {
        int Rank(string area) => Top.Contains(area) ? 3 : Surfaces.Contains(area) ? 2 : Features.Contains(area) ? 1 : 0;
        string Layer(string area) => Rank(area) switch { 3 => "top", 2 => "surface", 1 => "feature", _ => "kernel" };
        var wrong = new List<string>();
        foreach (var (from, targets) in graph)
            foreach (var to in targets.Order())
                if (Rank(to) > Rank(from) || (Rank(to) == 2 && Rank(from) == 2))
                    wrong.Add($"{Layer(from)} {from} uses {Layer(to)} {to}");
        return wrong;
    }

    /// <summary>Strongly connected components of more than one area (Tarjan), among <paramref name="among"/>.</summary>
    public static List<List<string>> Cycles(Dictionary<string, HashSet<string>> graph, HashSet<string> among)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var result = new List<List<string>>();
        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            foreach (var w in graph.GetValueOrDefault(v, []).Where(among.Contains))
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (stack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do { x = stack.Pop(); component.Add(x); } while (x != v);
            if (component.Count > 1) result.Add(component);
        }
        foreach (var v in graph.Keys.Where(among.Contains).Order()) if (!index.ContainsKey(v)) Visit(v);
        return result;
    }
}
