using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace Keygate.Load;

/// <summary>
/// What another .NET process allocates, by type, while something else loads it: the runtime's GCAllocationTick
/// events (one per ~100 KB allocated, naming the type that crossed the mark) over an EventPipe session, so the shares
/// are shares of bytes. This is how issue 18 found what a hot-path call allocated beyond the baseline (bench/README.md).
/// </summary>
public static class Allocations
{
    public static async Task<int> RunAsync(int pid, int seconds, int top)
    {
        var client = new DiagnosticsClient(pid);
        var provider = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, (long)ClrTraceEventParser.Keywords.GC);
        using var session = client.StartEventPipeSession(provider, requestRundown: false);
        var byType = new Dictionary<string, long>();
        long total = 0;
        using var source = new EventPipeEventSource(session.EventStream);
        source.Clr.GCAllocationTick += e =>
        {
            byType[e.TypeName] = byType.GetValueOrDefault(e.TypeName) + 1;
            total++;
        };
        var stop = Task.Delay(TimeSpan.FromSeconds(seconds)).ContinueWith(_ => session.Stop(), TaskScheduler.Default);
        await Task.Run(source.Process);
        await stop;
        foreach (var (type, ticks) in byType.OrderByDescending(kv => kv.Value).Take(top))
            Console.WriteLine($"{ticks * 100.0 / Math.Max(1, total),6:F1} %  {ticks,7}  {type}");
        Console.WriteLine($"{total} samples of ~100 KB");
        return 0;
    }
}
