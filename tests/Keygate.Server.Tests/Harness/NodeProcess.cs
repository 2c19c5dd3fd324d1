using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Keygate.Tests;

/// <summary>
/// A Keygate server as a real operating-system process (the Release or Debug build the tests were built
/// with), for what an in-process host cannot show: several nodes behind nginx, and a node killed mid-change.
/// Configuration goes in as environment variables (Keygate__Redis__Configuration=…).
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    public ConcurrentQueue<string> Output { get; } = new();
    public int Port { get; }
    public Uri Address => new($"http://127.0.0.1:{Port}/");

    private NodeProcess(Process process, int port) => (_process, Port) = (process, port);

    /// <summary>
    /// A request that got no answer because the node is gone or not up yet. Mostly HttpClient wraps that in
    /// HttpRequestException, but a connection the dying node's kernel accepted and then reset fails in
    /// HttpConnectionPool's RemoteEndPoint read as a bare SocketException (ENOTCONN) — that failed CI once.
    /// </summary>
    public static bool IsNoAnswer(Exception e) =>
        e is HttpRequestException or TaskCanceledException or IOException or SocketException;

    /// <summary>The folder holding Keygate.slnx, above this test build.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Keygate.slnx"))) return dir.FullName;
            throw new InvalidOperationException("Keygate.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The server's build output that sits beside this test build (same configuration).</summary>
    public static string ServerDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // …/bin/<Config>/net10.0/
            return Path.Combine(RepoRoot, "src", "Keygate.Server", "bin", configuration, "net10.0", "Keygate.Server.dll");
        }
    }

    /// <summary>
    /// A loopback port for a process we start, below the kernel's ephemeral range. A port from bind(0) lies inside
    /// that range, where any outgoing connection (the suite makes thousands) may take it before the process binds
    /// it, or while a killed Redis is started again on it; the bench's nginx failed to start that way once.
    /// </summary>
    public static int FreePort()
    {
        var low = EphemeralLow();
        lock (HandedOut)
            for (var i = 0; low - 20_000 >= 1000 && i < 200; i++)
            {
                var port = Random.Shared.Next(20_000, low);
                if (!HandedOut.Add(port)) continue; // never the same port to two of this run's processes
                try
                {
                    using var probe = new TcpListener(IPAddress.Loopback, port);
                    probe.Start();
                    return port;
                }
                catch (SocketException) { }
            }
        using var l = new TcpListener(IPAddress.Loopback, 0); // an unusual range: the kernel's pick, as before
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static readonly HashSet<int> HandedOut = [];

    private static int EphemeralLow()
    {
        try { return int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split(default(char[]), StringSplitOptions.RemoveEmptyEntries)[0]); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return 32768; }
    }

    /// <summary>Starts a node (with extra command-line <paramref name="arguments"/>) and waits until /healthz answers (at most 120 s: a cold start on a loaded 2-core machine has taken 55 s).</summary>
    public static async Task<NodeProcess> StartAsync(IDictionary<string, string> environment, int? port = null, IEnumerable<string>? arguments = null)
    {
        var p = port ?? FreePort();
        var dll = ServerDll;
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--urls", $"http://127.0.0.1:{p}" },
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var a in arguments ?? []) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        var process = Process.Start(info)!;
        var node = new NodeProcess(process, p);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) node.Output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) node.Output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"Keygate node exited with {process.ExitCode}:\n" + string.Join('\n', node.Output));
            try
            {
                if ((await http.GetAsync(node.Address + "healthz")).IsSuccessStatusCode) return node;
            }
            catch (Exception e) when (IsNoAnswer(e)) { }
            await Task.Delay(200);
        }
        await node.DisposeAsync();
        throw new TimeoutException("Keygate node did not answer /healthz within 120 s:\n" + string.Join('\n', node.Output));
    }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The process's peak resident set so far (VmHWM in /proc/&lt;pid&gt;/status, Linux only), in bytes: what the
    /// operating system had to give it at its hungriest, which a buffered body raises and no GC can hide.
    /// </summary>
    public long PeakWorkingSet()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024; // "VmHWM:  123456 kB"
    }

    /// <summary>SIGSTOP / SIGCONT: the process stops dead (a long GC pause, a frozen VM) and later goes on as if nothing happened.</summary>
    public void Pause(bool paused) => Signal(_process.Id, paused ? 19 : 18);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static extern int Signal(int pid, int signal);

    /// <summary>SIGKILL: no shutdown hook runs, exactly like a crashed machine.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.CompletedTask;
        _process.Dispose();
    }
}
