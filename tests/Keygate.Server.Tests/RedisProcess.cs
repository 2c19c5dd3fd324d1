using System.Diagnostics;
using System.Net.Sockets;

namespace Keygate.Tests;

/// <summary>
/// A private redis-server (Debian's /usr/bin/redis-server) on a free loopback port, in memory only, that a
/// test may stop and start again on the same port: a Redis outage and a restart that lost everything.
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private Process? _process;
    public int Port { get; } = NodeProcess.FreePort();
    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisProcess> StartAsync()
    {
        var redis = new RedisProcess();
        await redis.RestartAsync();
        return redis;
    }

    public async Task RestartAsync()
    {
        Stop();
        _process = Process.Start(new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) { await Task.Delay(50); }
        }
        throw new TimeoutException($"redis-server did not listen on {Port}");
    }

    /// <summary>SIGKILL: connections drop at once and nothing is saved.</summary>
    public void Stop()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit(10_000);
        _process.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }
}
