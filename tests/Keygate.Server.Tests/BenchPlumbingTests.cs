using System.Diagnostics;

namespace Keygate.Tests;

/// <summary>
/// Runs the load benchmark's plumbing mode (bench/run.sh --plumbing): every step with 1-second loads and tiny
/// counts, so the benchmark cannot rot unnoticed. It checks that the results table was printed and that no read
/// was stale, never a timing or a throughput.
/// </summary>
public sealed class BenchPlumbingTests
{
    [Fact(Timeout = 300_000)]
    public async Task Plumbing_mode_runs_every_step_and_prints_the_table()
    {
        Assert.SkipWhen(KeygateApp.OnPostgres, "The benchmark runs on SQLite only; the SQLite pass runs it.");
        var root = RepoRoot();
        var run = new ProcessStartInfo("bash") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        run.ArgumentList.Add(Path.Combine(root, "bench", "run.sh"));
        run.ArgumentList.Add("--plumbing");
        if (ReleaseBuildIsThere(root)) run.ArgumentList.Add("--no-build");

        using var bench = Process.Start(run)!;
        var stdout = bench.StandardOutput.ReadToEndAsync();
        var stderr = bench.StandardError.ReadToEndAsync();
        try
        {
            await bench.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        finally
        {
            // On timeout: the script, its servers and wrk, never anything else.
            if (!bench.HasExited) bench.Kill(entireProcessTree: true);
        }
        var output = await stdout + await stderr;

        Assert.True(bench.ExitCode == 0, output);
        Assert.Contains("| GET /api/v1/apiKeys on a live session (hot path) |", output);
        Assert.Contains("| server memory per live session |", output);
        Assert.Matches(@"\| reads sent after a regenerate returned that saw an older key \| 0 of [1-9]\d* \|", output);
        Assert.Contains("bench checks passed", output);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Keygate.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"No Keygate.slnx above {AppContext.BaseDirectory}");
    }

    /// <summary>test.sh builds the whole solution in Release first; a Debug test run lets the script build.</summary>
    private static bool ReleaseBuildIsThere(string root)
    {
#if DEBUG
        return false;
#else
        string[] projects = ["src/Keygate.Server", "bench/Keygate.Baseline", "bench/Keygate.Load", "bench/Keygate.Seed"];
        return projects.All(p => File.Exists(Path.Combine(root, p, "bin", "Release", "net10.0", Path.GetFileName(p) + ".dll")));
#endif
    }
}
