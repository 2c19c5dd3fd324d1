// The load benchmark's client side, driven by bench/run.sh. It talks to Keygate over HTTP only:
//   setup --url U --token T --out DIR      bench org through the provider API, its key from the portal, a login
//   regen --url U --dir DIR --count N --readers R [--warmup W]   regenerate latency and stale reads under read load
//   gc --pid P                              a full blocking GC in another .NET process (diagnostics IPC)
//   allocs --pid P [--seconds S] [--top N]  what another .NET process allocates, by type (run it while a load runs)
using Keygate.Load;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Keygate.Load setup|regen|gc|allocs [--name value]...");
    return 2;
}
var named = Args.Parse(args[1..]);
return args[0] switch
{
    "setup" => await BenchSetup.RunAsync(new Uri(named.Required("url")), named.Required("token"), named.Required("out")),
    "regen" => await RegenerateUnderLoad.RunAsync(new Uri(named.Required("url")), named.Required("dir"),
        named.Number("count", 200), named.Number("readers", 16), named.Number("warmup", 0)),
    "gc" => await FullGc.RunAsync(named.Number("pid", 0)),
    "allocs" => await Allocations.RunAsync(named.Number("pid", 0), named.Number("seconds", 8), named.Number("top", 25)),
    _ => throw new ArgumentException($"Unknown command {args[0]}"),
};
