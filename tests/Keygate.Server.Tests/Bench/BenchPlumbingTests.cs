using System.Diagnostics;

namespace Keygate.Tests;

/// <summary>
/// Runs the load benchmark's plumbing mode (bench/run.sh --plumbing, and --two-node --plumbing where PostgreSQL,
/// Redis and nginx are there): every step with 1-second loads and tiny counts, so the benchmark cannot rot
/// unnoticed. It checks that the results table was printed and the run's own checks passed, never a timing.
/// </summary>
[Collection(nameof(MachineWide))]
public sealed class BenchPlumbingTests
{
    [Fact(Timeout = 300_000)]
    public async Task PlumbingModeRunsEveryStepAndPrintsTheTable()
    {
        Assert.SkipWhen(KeygateApp.OnPostgres, "The benchmark runs on SQLite only; the SQLite pass runs it.");
        var output = await RunAsync(["--plumbing"], [], TestContext.Current.CancellationToken);

        Assert.Contains("| GET /api/v1/apiKeys on a live session (hot path) |", output);
        Assert.Contains("| server memory per live session |", output);
        Assert.Contains("| Keygate gateway (session cookie) |", output);
        Assert.Matches(@"\| gateway req/s, Keygate / bare proxy \| [\d.]+ \|", output);
        Assert.Matches(@"\| reads sent after a regenerate returned that saw an older key \(all 15 regenerates\) \| 0 of [1-9]\d* \|", output);
        Assert.Matches(@"\| regenerate under read load \(16 readers\): the 10 after those, p50 / p99 / max \| [\d.]+ ms / [\d.]+ ms / [\d.]+ ms \|", output);
        Assert.Contains("bench checks passed", output);
    }

    [Fact(Timeout = 300_000)]
    public async Task TwoNodePlumbingModeRunsOneNodeThenTwoBehindNginxAndPrintsTheTable()
    {
        Assert.SkipUnless(KeygateCluster.CanRun, KeygateCluster.SkipReason);
        var output = await RunAsync(["--two-node", "--plumbing"], new()
        {
            ["BENCH_POSTGRES"] = KeygateApp.PostgresServer!, ["BENCH_REDIS"] = KeygateApp.RedisServer!, ["BENCH_NGINX"] = NginxProcess.Binary!,
        }, TestContext.Current.CancellationToken);

        Assert.Contains("| 1 node, directly, per-call script (baseline directly) |", output);
        Assert.Contains("| 1 node, directly, leases (baseline directly) |", output);
        Assert.Contains("| 2 nodes behind nginx (baseline behind nginx) |", output);
        Assert.Contains("bench checks passed", output);
    }

    /// <summary>Runs bench/run.sh and returns what it printed, once it exited 0.</summary>
    private static async Task<string> RunAsync(string[] args, Dictionary<string, string> environment, CancellationToken ct)
    {
        var root = NodeProcess.RepoRoot;
        var run = new ProcessStartInfo("bash") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        run.ArgumentList.Add(Path.Combine(root, "bench", "run.sh"));
        foreach (var a in args) run.ArgumentList.Add(a);
        if (ReleaseBuildIsThere(root)) run.ArgumentList.Add("--no-build");
        foreach (var (k, v) in environment) run.Environment[k] = v;

        using var bench = Process.Start(run)!;
        var stdout = bench.StandardOutput.ReadToEndAsync(ct);
        var stderr = bench.StandardError.ReadToEndAsync(ct);
        try
        {
            await bench.WaitForExitAsync(ct);
        }
        finally
        {
            // On timeout: the script, its servers, nginx and wrk, never anything else.
            if (!bench.HasExited) bench.Kill(entireProcessTree: true);
        }
        var output = await stdout + await stderr;
        Assert.True(bench.ExitCode == 0, output);
        return output;
    }

    /// <summary>test.sh builds the whole solution in Release first; a Debug test run lets the script build.</summary>
    private static bool ReleaseBuildIsThere(string root)
    {
#if DEBUG
        return false;
#else
        string[] projects = ["src/Keygate.Server", "bench/Keygate.Baseline", "bench/Keygate.Load", "bench/Keygate.Seed",
            "bench/Keygate.BareProxy", "samples/Keygate.SampleUpstream"];
        return projects.All(p => File.Exists(Path.Combine(root, p, "bin", "Release", "net10.0", Path.GetFileName(p) + ".dll")));
#endif
    }
}
