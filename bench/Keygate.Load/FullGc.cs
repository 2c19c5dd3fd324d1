using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;

namespace Keygate.Load;

/// <summary>
/// Makes another .NET process run a full blocking garbage collection, from outside, the way dotnet-gcdump
/// does: an EventPipe session that enables the runtime's GCHeapCollect keyword. The server needs no
/// benchmark-only code for its resident memory to be measured without garbage.
/// </summary>
public static class FullGc
{
    private const long GcKeyword = 0x1, GcHeapCollectKeyword = 0x800000;

    public static async Task<int> RunAsync(int pid)
    {
        var client = new DiagnosticsClient(pid);
        var provider = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, GcKeyword | GcHeapCollectKeyword);
        using var session = client.StartEventPipeSession(provider, requestRundown: false);
        var drain = session.EventStream.CopyToAsync(Stream.Null);
        // The collection is triggered when the session starts; leave it time to finish before closing.
        await Task.Delay(TimeSpan.FromSeconds(2));
        await session.StopAsync(CancellationToken.None);
        await drain;
        return 0;
    }
}
