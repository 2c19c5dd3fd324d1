using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Keygate;

/// <summary>
/// Brute-force throttling of logins (contract A2): failures per username and per client address in a sliding
/// window. Attempt N+1 after N recent failures is refused until the oldest failure leaves the window.
/// <para>
/// An attempt takes its place in both windows when it starts and gives it back only once the credentials
/// proved right, so a burst of parallel guesses cannot all pass the check before the first of them has failed:
/// while N guesses are in flight the next one is refused.
/// </para>
/// <para>
/// On a cluster (Keygate:Redis) the windows live in Redis, one sorted set per username and per address checked
/// and filled by one script, so N nodes do not allow N times the attempts. While Redis is unreachable each node
/// throttles with its own memory, as a single node does.
/// </para>
/// </summary>
public sealed class LoginThrottle(TimeProvider clock, IOptions<KeygateOptions> options, ILogger<LoginThrottle> log, RedisLink? redis = null)
{
    /// <summary>
    /// KEYS: the username's and the address's sets. ARGV: now (ms), window (ms), the two limits, this attempt's
    /// member. Drops what left the window; if either set is full returns the ms until its oldest entry leaves,
    /// else adds the attempt to both and returns 0.
    /// </summary>
    private const string BeginScript = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local wait = 0
        for i = 1, 2 do
            redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
            if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[2 + i]) then
                local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
                wait = math.max(wait, tonumber(oldest[2]) + window - now)
            end
        end
        if wait > 0 then return wait end
        for i = 1, 2 do
            redis.call('ZADD', KEYS[i], now, ARGV[5])
            redis.call('PEXPIRE', KEYS[i], window)
        end
        return 0
        """;

    private readonly ConcurrentDictionary<string, Window> _windows = new();
    private long _attempts;

    private LoginThrottleOptions O => options.Value.LoginThrottle;

    /// <summary>
    /// Starts a login attempt. Refused (<see cref="LoginAttempt.RetryAfter"/> set) when the username or the
    /// address is throttled. Otherwise it counts as a failure until it is disposed without
    /// <see cref="LoginAttempt.Fail"/>.
    /// </summary>
    public async ValueTask<LoginAttempt> BeginAsync(string username, string address)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var user = "u:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Account.Normalize(username))), 0, 16);
        var addr = "a:" + address;
        var id = Interlocked.Increment(ref _attempts);
        if (id % 1024 == 0) Sweep(now);

        if (redis is { IsUp: true })
        {
            var member = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
            try
            {
                var waitMs = (long)await redis.Db.ScriptEvaluateAsync(BeginScript, [redis.Key("lt:" + user), redis.Key("lt:" + addr)],
                    [now, WindowMs, O.FailuresPerUsername, O.FailuresPerAddress, member]);
                return waitMs > 0 ? LoginAttempt.Refused(Seconds(waitMs)) : new LoginAttempt(() => ForgetInRedisAsync(user, addr, member));
            }
            catch (Exception e) when (RedisLink.IsFailure(e))
            {
                log.LogWarning("Redis did not answer the login throttle ({Error}); this node throttles on its own", e.GetType().Name);
            }
        }

        var waitUser = Take(user, O.FailuresPerUsername, now, id);
        var waitAddr = Take(addr, O.FailuresPerAddress, now, id);
        if (waitUser is null && waitAddr is null)
            return new LoginAttempt(() => { Give(user, id); Give(addr, id); return ValueTask.CompletedTask; });
        if (waitUser is null) Give(user, id);
        if (waitAddr is null) Give(addr, id);
        return LoginAttempt.Refused(Math.Max(waitUser ?? 0, waitAddr ?? 0));
    }

    private long WindowMs => O.WindowSeconds * 1000L;

    private static int Seconds(long ms) => (int)Math.Max(1, (ms + 999) / 1000);

    private async ValueTask ForgetInRedisAsync(string user, string addr, string member)
    {
        try
        {
            await redis!.Db.SortedSetRemoveAsync(redis.Key("lt:" + user), member);
            await redis.Db.SortedSetRemoveAsync(redis.Key("lt:" + addr), member);
        }
        catch (Exception e) when (RedisLink.IsFailure(e))
        {
            // The attempt then counts as one failure until it leaves the window: refusing early, never late.
            log.LogWarning("Redis did not take back a successful login's place in the throttle ({Error})", e.GetType().Name);
        }
    }

    /// <summary>Takes a place in a window, or says how many seconds until one is free.</summary>
    private int? Take(string key, int limit, long now, long id)
    {
        while (true)
        {
            var w = _windows.GetOrAdd(key, _ => new Window());
            lock (w)
            {
                if (w.Removed) continue; // the sweep took it out meanwhile: take the new one
                w.Trim(now - WindowMs);
                if (w.Entries.Count >= limit) return Seconds(w.Entries[0].At + WindowMs - now);
                w.Entries.Add((now, id));
                return null;
            }
        }
    }

    private void Give(string key, long id)
    {
        if (!_windows.TryGetValue(key, out var w)) return;
        lock (w) w.Entries.RemoveAll(e => e.Id == id);
    }

    /// <summary>Drops windows with nothing left in them, so guessed usernames do not pile up in memory.</summary>
    private void Sweep(long now)
    {
        foreach (var (key, w) in _windows)
        {
            lock (w)
            {
                w.Trim(now - WindowMs);
                if (w.Entries.Count > 0) continue;
                w.Removed = true;
                _windows.TryRemove(new KeyValuePair<string, Window>(key, w));
            }
        }
    }

    private sealed class Window
    {
        public readonly List<(long At, long Id)> Entries = [];
        public bool Removed;

        public void Trim(long from)
        {
            var stale = 0;
            while (stale < Entries.Count && Entries[stale].At <= from) stale++;
            Entries.RemoveRange(0, stale);
        }
    }
}

/// <summary>
/// One login attempt's place in the throttle. Dispose it when the attempt is over: unless <see cref="Fail"/> was
/// called (the username, password or key was wrong) its place is given back.
/// </summary>
public sealed class LoginAttempt(Func<ValueTask>? giveBack) : IAsyncDisposable
{
    private Func<ValueTask>? _giveBack = giveBack;

    public int? RetryAfter { get; private init; }

    public static LoginAttempt Refused(int seconds) => new(null) { RetryAfter = seconds };

    /// <summary>The credentials were wrong: the attempt stays counted as a failure for the whole window.</summary>
    public void Fail() => _giveBack = null;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _giveBack, null) is { } giveBack) await giveBack();
    }
}
