using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Keygate.Tests;

/// <summary>
/// A private redis-server (Debian's /usr/bin/redis-server) on a free loopback port, to kill and start again on
/// the same port in the middle of a test: a Redis outage, and a restart that lost everything (or, persistent,
/// kept it).
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private readonly int _port = NodeProcess.FreePort();
    private readonly string _folder = Directory.CreateTempSubdirectory("keygate-redis-").FullName;
    private readonly bool _persistent;
    private Process? _process;

    private RedisProcess(bool persistent) => _persistent = persistent;

    public string Address => $"127.0.0.1:{_port}";

    /// <summary>In memory only, or (<paramref name="persistent"/>) with every write in an append-only file, so a restart keeps the data.</summary>
    public static async Task<RedisProcess> StartAsync(bool persistent = false)
    {
        var redis = new RedisProcess(persistent);
        await redis.RestartAsync();
        return redis;
    }

    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", _port.ToString(), "--bind", "127.0.0.1", "--save", "", "--dir", _folder },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in _persistent ? new[] { "--appendonly", "yes", "--appendfsync", "always" } : new[] { "--appendonly", "no" })
            info.ArgumentList.Add(a);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        var until = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, _port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < until) { await Task.Delay(50); }
        }
    }

    /// <summary>SIGSTOP / SIGCONT: Redis stops answering while its connections stay open (a hung or overloaded Redis).</summary>
    public void Pause(bool paused) => NodeProcess.Signal(_process!.Id, paused ? 19 : 18);

    /// <summary>SIGKILL: no shutdown, no save; clients see their connections drop.</summary>
    public async Task KillAsync()
    {
        _process!.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false }) await KillAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
