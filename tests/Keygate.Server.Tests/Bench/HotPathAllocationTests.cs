using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Issue 18: the bytes a Keygate server allocates per hot-path call (GET /api/v1/apiKeys and GET /api/v1/auth on a live
/// legacy session), end to end — Kestrel's parsing, every middleware, the endpoint filters, the gate, the handler and
/// the JSON writer — next to the bare baseline's (bench/Keygate.Baseline) for the same routes.
/// <para>
/// How: the server runs as its own process (<see cref="NodeProcess"/>), so the client's allocations (HttpClient, this
/// test, other tests) are not in its count, and the count is the runtime's own: GC.GetTotalAllocatedBytes of the
/// server process, which Keygate shows in /metrics (dotnet.gc.heap.total_allocated) and the baseline at
/// /_bench/allocated. Reading it costs the server something (a /metrics scrape allocates kilobytes), so it is read
/// twice back to back first and that difference is taken off. After a warm-up (JIT tiers, pools, the connection),
/// 10,000 sequential calls on one connection; per call = (after − before − one read) / 10,000. What the server does
/// meanwhile on its own (the usage flush every 2 s, the session sweep) is counted too, and adds a few bytes per call.
/// The counter leaves out the unused part of each thread's allocation context (up to 8 KiB per thread), under
/// 1 B per call over 10,000 calls. Only bytes are asserted, never a time.
/// </para>
/// </summary>
[Collection(nameof(MachineWide))]
public sealed partial class HotPathAllocationTests(ITestOutputHelper output)
{
    private const int Calls = 10_000;

    /// <summary>
    /// Keygate's bytes per call may exceed the baseline's by this much. Measured on 2026-12-03: before issue 18 a call
    /// allocated about 3.2 KB (GET /api/v1/apiKeys: 4,739 B against the baseline's 1,559 B) and 2.7 KB (GET /api/v1/auth:
    /// 3,936 against 1,247) more; after it about 1.5–1.9 and 1.2–1.3 KB more (3,112–3,444 and 2,419–2,591 B in two runs). The gate itself allocates nothing
    /// (LegacyAuthTests); what is left is the request's service scope and LegacyCaller, the cookie collection, the endpoint
    /// filters' invocation context, the X-RateLimit-* values, the key objects and the typed results. Generous, so that
    /// background work (the usage flush) cannot fail it, and still well under what the portal's middleware cost every call.
    /// </summary>
    private const double AllowedAboveBaseline = 2560;

    [Fact]
    public async Task AHotPathCallAllocatesAtMostTwoAndAHalfKilobytesMoreThanTheBareBaselineEndToEnd()
    {
        Assert.SkipUnless(File.Exists(BaselineDll), $"the baseline is not built: {BaselineDll}");
        await using var database = new NodeDatabase();
        var environment = database.Environment();
        environment["Logging__LogLevel__Default"] = "Warning";
        await using var node = await NodeProcess.StartAsync(environment);
        TestOrg org;
        using (var op = FaultTests.Operator(node, database)) org = await CreateOrgAsync(op, op);
        using var keygate = await FaultTests.NodeSessionAsync(node, org, (await FaultTests.LedgerAsync(database, org.Id)).Cloud!.Value);
        var keygateKeys = await BytesPerCallAsync(keygate, "/api/v1/apiKeys", KeygateAllocatedAsync);
        var keygateSession = await BytesPerCallAsync(keygate, "/api/v1/auth", KeygateAllocatedAsync);

        using var baselineProcess = StartBaseline(out var baselineUrl);
        try
        {
            using var baseline = new HttpClient { BaseAddress = baselineUrl, Timeout = TimeSpan.FromSeconds(30) };
            await WaitForAsync(baseline);
            var baselineKeys = await BytesPerCallAsync(baseline, "/api/v1/apiKeys", BaselineAllocatedAsync);
            var baselineSession = await BytesPerCallAsync(baseline, "/api/v1/auth", BaselineAllocatedAsync);

            output.WriteLine($"bytes per call, GET /api/v1/apiKeys: Keygate {keygateKeys:F0}, baseline {baselineKeys:F0}");
            output.WriteLine($"bytes per call, GET /api/v1/auth: Keygate {keygateSession:F0}, baseline {baselineSession:F0}");
            Assert.True(keygateKeys <= baselineKeys + AllowedAboveBaseline,
                $"GET /api/v1/apiKeys allocated {keygateKeys:F0} B per call in Keygate against {baselineKeys:F0} B in the baseline");
            Assert.True(keygateSession <= baselineSession + AllowedAboveBaseline,
                $"GET /api/v1/auth allocated {keygateSession:F0} B per call in Keygate against {baselineSession:F0} B in the baseline");
        }
        finally
        {
            baselineProcess.Kill(entireProcessTree: true);
            baselineProcess.WaitForExit(10_000);
        }
    }

    /// <summary>The server's allocated bytes per call of <paramref name="path"/>, after a warm-up, the reading's own cost taken off.</summary>
    private static async Task<double> BytesPerCallAsync(HttpClient c, string path, Func<HttpClient, Task<long>> allocated)
    {
        for (var i = 0; i < 3_000; i++) await CallAsync(c, path);
        var first = await allocated(c);
        var second = await allocated(c);
        for (var i = 0; i < Calls; i++) await CallAsync(c, path);
        var third = await allocated(c);
        return (third - second - (second - first)) / (double)Calls;
    }

    private static async Task CallAsync(HttpClient c, string path)
    {
        using var r = await c.GetAsync(path, HttpCompletionOption.ResponseContentRead);
        if (!r.IsSuccessStatusCode) throw new Xunit.Sdk.XunitException($"{path} answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
    }

    private static async Task<long> KeygateAllocatedAsync(HttpClient c)
    {
        var text = await c.GetStringAsync("/metrics");
        return long.Parse(AllocatedSeries().Match(text) is { Success: true } m ? m.Groups[1].Value
            : throw new Xunit.Sdk.XunitException("no dotnet_gc_heap_total_allocated series in /metrics"), CultureInfo.InvariantCulture);
    }

    private static async Task<long> BaselineAllocatedAsync(HttpClient c) =>
        long.Parse(await c.GetStringAsync("/_bench/allocated"), CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^dotnet_gc_heap_total_allocated_bytes(?:_total)?(?:\{[^}]*\})? (\d+)", RegexOptions.Multiline)]
    private static partial Regex AllocatedSeries();

    private static string BaselineDll =>
        Path.Combine(NodeProcess.RepoRoot, "bench", "Keygate.Baseline", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", "Keygate.Baseline.dll");

    private static Process StartBaseline(out Uri url)
    {
        var port = NodeProcess.FreePort();
        url = new Uri($"http://127.0.0.1:{port}/");
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { BaselineDll, "--urls", url.ToString().TrimEnd('/') },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForAsync(HttpClient c)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            try
            {
                if ((await c.GetAsync("/api/v1/auth")).IsSuccessStatusCode) return;
            }
            catch (Exception e) when (NodeProcess.IsNoAnswer(e)) { }
        }
        throw new TimeoutException("the baseline did not answer within 60 s");
    }
}
