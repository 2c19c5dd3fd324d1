using Keygate.Kernel;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Keygate.Cluster;

/// <summary>
/// The node's one connection to Redis (only when Keygate:Redis:Configuration is set). It never blocks start
/// and never throws at callers for being down: the multiplexer reconnects in the background, and every user
/// of Redis has a database path to fall back on while <see cref="IsUp"/> is false.
/// </summary>
public sealed class RedisLink : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _mux;
    private readonly ILogger<RedisLink> _log;

    public RedisLink(IOptions<KeygateOptions> options, ILogger<RedisLink> log)
    {
        _log = log;
        var o = options.Value.Redis;
        Prefix = o.Prefix;
        var config = ConfigurationOptions.Parse(o.Configuration!);
        config.AbortOnConnectFail = false;
        config.ConnectTimeout = Math.Max(o.TimeoutMilliseconds, 500);
        config.SyncTimeout = o.TimeoutMilliseconds;
        config.AsyncTimeout = o.TimeoutMilliseconds;
        // The multiplexer notices an async timeout only on its heartbeat (1 s unless told): a silent Redis cost a
        // call up to a second per command instead of the timeout, and a call of two commands looked like a Redis
        // gone for good (RedisTimeoutTests). A heartbeat as short as the timeout keeps the timeout what it says.
        config.HeartbeatInterval = TimeSpan.FromMilliseconds(Math.Clamp(o.TimeoutMilliseconds, 100, 1000));
        config.ConnectRetry = 1;
        // Commands issued while disconnected fail at once instead of queueing for the reconnect: a caller
        // that gets an answer late is worse off than one that uses the database now.
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ReconnectRetryPolicy = new LinearRetry(250);
        config.ClientName = "keygate";
        // Only for INFO (the run id that tells a restarted Redis apart); Keygate sends no other admin command.
        config.AllowAdmin = true;
        _mux = ConnectionMultiplexer.Connect(config);
        _mux.ConnectionFailed += (_, e) =>
        {
            _log.LogWarning("Redis connection lost ({FailureType}); using the database until it is back", e.FailureType);
            Lost?.Invoke();
        };
        _mux.ConnectionRestored += (_, _) =>
        {
            _log.LogInformation("Redis connection restored");
            Restored?.Invoke();
        };
    }

    /// <summary>Raised when a connection to Redis fails (also each failed reconnect), and when one is back.</summary>
    public event Action? Lost, Restored;

    /// <summary>Every key Keygate writes starts with this.</summary>
    public string Prefix { get; }

    public IDatabase Db => _mux.GetDatabase();

    /// <summary>For the Redis trace instrumentation only.</summary>
    public IConnectionMultiplexer Connection => _mux;

    public bool IsUp => _mux.IsConnected;

    public RedisKey Key(string suffix) => Prefix + suffix;

    /// <summary>The server's run id: it changes whenever Redis restarts, whatever it reloaded from disk.</summary>
    public async Task<string?> RunIdAsync()
    {
        var endpoint = _mux.GetEndPoints().FirstOrDefault();
        if (endpoint is null) return null;
        var info = await _mux.GetServer(endpoint).InfoAsync("server");
        return info.SelectMany(g => g).FirstOrDefault(p => p.Key == "run_id").Value;
    }

    public static bool IsFailure(Exception e) => e is RedisException or RedisTimeoutException or RedisConnectionException or TimeoutException;

    public async ValueTask DisposeAsync() => await _mux.DisposeAsync();
}
