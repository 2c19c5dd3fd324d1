using System.Net.Http.Headers;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Issue 14: a 50 MiB download and a 10 MiB upload stream through the gateway of a Keygate running as its own process
/// (on SQLite, or PostgreSQL when the suite runs on it), and the process's peak working set barely moves. Unlike
/// GatewayStreamingTests this measures what the operating system gave Keygate, not what the CLR allocated, and nothing
/// else (the client, the sample upstream) shares that process.
/// </summary>
[Collection(nameof(MachineWide))]
public sealed class GatewayProcessMemoryTests
{
    private const long MiB = 1024 * 1024;

    /// <summary>
    /// How much the peak working set may rise over both transfers, after a warm-up. Streaming keeps a few 64 KiB buffers
    /// per direction (the in-process test measures 1–2 MiB allocated per transfer); the rest of the margin is for what a
    /// busy runtime may still add on its own (tier-1 JIT code, a GC budget growing, thread stacks). A gateway that held
    /// either body would add its whole size: at least 50 MiB for the download, twice that while a MemoryStream grows.
    /// </summary>
    private const long PeakGrowthLimit = 32 * MiB;

    [Fact]
    public async Task A50MiBDownloadAndA10MiBUploadThroughAKeygateProcessRaiseItsPeakWorkingSetByUnder32MiB()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "reads the peak working set from /proc/<pid>/status");
        await using var database = new NodeDatabase();
        var port = NodeProcess.FreePort();
        await using var upstream = await SampleUpstreamHost.StartBehindAsync(GatewayHost.Issuer, $"http://127.0.0.1:{port}/.well-known/jwks.json");
        var environment = database.Environment();
        environment["Keygate__Gateway__Issuer"] = GatewayHost.Issuer;
        environment["Keygate__Gateway__Routes__api__ClusterId"] = "sample";
        environment["Keygate__Gateway__Routes__api__Match__Path"] = "/api/v1/{**catch-all}";
        environment["Keygate__Gateway__Clusters__sample__Destinations__one__Address"] = upstream.Url;
        environment["Logging__LogLevel__Default"] = "Warning";
        await using var node = await NodeProcess.StartAsync(environment, port);

        TestOrg org;
        using (var op = FaultTests.Operator(node, database)) org = await CreateOrgAsync(op, op);
        using var c = await FaultTests.NodeSessionAsync(node, org, (await FaultTests.LedgerAsync(database, org.Id)).Cloud!.Value);

        // Warm-up: both paths once with a 1 MiB body, so start-up, JIT and the connection pools are behind us.
        Assert.Equal(MiB, (await GatewayStreamingTests.DownloadAsync(c, MiB)).Bytes);
        Assert.Equal(MiB, (await UploadAsync(c, MiB)).GetProperty("received").GetInt64());
        var before = node.PeakWorkingSet();

        var (bytes, sha256) = await GatewayStreamingTests.DownloadAsync(c, 50 * MiB);
        Assert.Equal(50 * MiB, bytes);
        Assert.Equal(GatewayStreamingTests.PatternSha256(50 * MiB), sha256);
        var receipt = await UploadAsync(c, 10 * MiB);
        Assert.Equal(10 * MiB, receipt.GetProperty("received").GetInt64());
        Assert.Equal(GatewayStreamingTests.PatternSha256(10 * MiB), receipt.GetProperty("sha256").GetString());

        var growth = node.PeakWorkingSet() - before;
        Assert.True(growth < PeakGrowthLimit,
            $"Keygate's peak working set rose by {growth / (double)MiB:F1} MiB (from {before / (double)MiB:F1} MiB) while 60 MiB went through");
    }

    private static async Task<System.Text.Json.JsonElement> UploadAsync(HttpClient c, long length)
    {
        // Gateway routes are legacy routes: a write's body is application/json (contract A2), whatever the upstream does with it.
        var content = new StreamContent(new GatewayStreamingTests.PatternStream(length), 64 * 1024);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        content.Headers.ContentLength = length;
        return await (await c.PostAsync("/api/v1/_diag/upload", content)).AssertOk();
    }
}
