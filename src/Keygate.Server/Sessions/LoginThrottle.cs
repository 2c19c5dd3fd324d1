using Keygate.Cluster;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Keygate.Sessions;

/// <summary>
/// Brute-force throttling of logins (contract A2): failures per username and per client address in a sliding
/// window. Attempt N+1 after N recent failures is refused (429) until the oldest failure leaves the window.
/// <para>
/// Attempts still in flight count too, so that a burst of parallel guesses cannot all pass the check before the
/// first of them has failed: when failures plus attempts in flight reach the limit, the next attempt is told to
/// come back in a second (503 busy, as when every hashing slot is taken), not that it failed too often. An
/// attempt whose credentials proved right gives its place back; one whose node died leaves after a minute.
/// </para>
/// <para>
/// On a cluster (Keygate:Redis) the windows live in Redis, one sorted set per username and per address checked
/// and filled by one script, so N nodes do not allow N times the attempts. While Redis is unreachable each node
/// throttles with its own memory, as a single node does.
/// </para>
/// </summary>
public sealed class LoginThrottle(TimeProvider clock, IOptions<KeygateOptions> options, ILogger<LoginThrottle> log, RedisLink? redis = null)
{
    private const long InFlightMs = 60_000;

    /// <summary>
    /// KEYS: the username's and the address's sets (members "f:id" failed, "p:id" in flight; score: when).
    /// ARGV: now, window, in-flight lifetime (ms), the two limits, this attempt's id. Returns the ms until a
    /// failure leaves a full window, -1 when failures and attempts in flight fill one, else 0 after adding the
    /// attempt to both as in flight.
    /// </summary>
    private const string BeginScript = """
        local now, window, inflight = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local wait, busy = 0, false
        for i = 1, 2 do
            redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
            local all = redis.call('ZRANGE', KEYS[i], 0, -1, 'WITHSCORES')
            local failed, total, oldest = 0, 0, nil
            for j = 1, #all, 2 do
                local m, at = all[j], tonumber(all[j + 1])
                if string.sub(m, 1, 2) == 'p:' and at <= now - inflight then
                    redis.call('ZREM', KEYS[i], m)
                else
                    total = total + 1
                    if string.sub(m, 1, 2) == 'f:' then
                        failed = failed + 1
                        oldest = oldest or at
                    end
                end
            end
            local limit = tonumber(ARGV[3 + i])
            if failed >= limit then wait = math.max(wait, oldest + window - now)
            elseif total >= limit then busy = true end
        end
        if wait > 0 then return wait end
        if busy then return -1 end
        for i = 1, 2 do
            redis.call('ZADD', KEYS[i], now, 'p:' .. ARGV[6])
            redis.call('PEXPIRE', KEYS[i], window)
        end
        return 0
        """;

    /// <summary>KEYS: the two sets. ARGV: now, window, the attempt's id, 1 if it failed. Ends the attempt.</summary>
    private const string EndScript = """
        for i = 1, 2 do
            redis.call('ZREM', KEYS[i], 'p:' .. ARGV[3])
            if ARGV[4] == '1' then
                redis.call('ZADD', KEYS[i], tonumber(ARGV[1]), 'f:' .. ARGV[3])
                redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2]))
            end
        end
        return 0
        """;

    private readonly ConcurrentDictionary<string, Window> _windows = new();
    private long _attempts;

    private LoginThrottleOptions O => options.Value.LoginThrottle;

    private long WindowMs => O.WindowSeconds * 1000L;

    private long NowMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Starts a login attempt, or refuses it (<see cref="LoginAttempt.RetryAfter"/> or <see cref="LoginAttempt.Busy"/>).
    /// Dispose it when the attempt is over; call <see cref="LoginAttempt.Fail"/> first if the credentials were wrong.
    /// </summary>
    public async ValueTask<LoginAttempt> BeginAsync(string username, string address)
    {
        var now = NowMs;
        var user = "u:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Account.Normalize(username))), 0, 16);
        var addr = "a:" + AddressKey(address);
        var id = Interlocked.Increment(ref _attempts);
        if (id % 1024 == 0) Sweep(now);

        if (redis is { IsUp: true })
        {
            var member = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
            RedisKey[] keys = [redis.Key("lt:" + user), redis.Key("lt:" + addr)];
            try
            {
                var answer = (long)await redis.Db.ScriptEvaluateAsync(BeginScript, keys,
                    [now, WindowMs, InFlightMs, O.FailuresPerUsername, O.FailuresPerAddress, member]);
                if (answer > 0) return LoginAttempt.Refused(Seconds(answer));
                if (answer < 0) return LoginAttempt.TooManyInFlight;
                return new LoginAttempt(failed => EndInRedisAsync(keys, member, failed));
            }
            catch (Exception e) when (RedisLink.IsFailure(e))
            {
                log.LogWarning("Redis did not answer the login throttle ({Error}); this node throttles on its own", e.GetType().Name);
            }
        }

        var takeUser = Take(user, O.FailuresPerUsername, now, id);
        var takeAddr = Take(addr, O.FailuresPerAddress, now, id);
        if (takeUser is null && takeAddr is null)
            return new LoginAttempt(failed => { End(user, id, failed); End(addr, id, failed); return ValueTask.CompletedTask; });
        if (takeUser is null) End(user, id, failed: false);
        if (takeAddr is null) End(addr, id, failed: false);
        var wait = Math.Max(takeUser ?? 0, takeAddr ?? 0);
        return wait > 0 ? LoginAttempt.Refused(wait) : LoginAttempt.TooManyInFlight;
    }

    /// <summary>
    /// Whom the per-address limit counts: an IPv4 client by its address (also when written IPv4-mapped, as a
    /// dual-stack socket reports it), an IPv6 client by its /64, which one subscriber usually holds whole, so
    /// walking through its 2^64 addresses does not buy fresh attempts.
    /// </summary>
    public static string AddressKey(string address)
    {
        if (!IPAddress.TryParse(address, out var ip)) return address;
        if (ip.IsIPv4MappedToIPv6) return ip.MapToIPv4().ToString();
        if (ip.AddressFamily != AddressFamily.InterNetworkV6) return ip.ToString();
        var bytes = ip.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private static int Seconds(long ms) => (int)Math.Max(1, (ms + 999) / 1000);

    private async ValueTask EndInRedisAsync(RedisKey[] keys, string member, bool failed)
    {
        try
        {
            await redis!.Db.ScriptEvaluateAsync(EndScript, keys, [NowMs, WindowMs, member, failed ? 1 : 0]);
        }
        catch (Exception e) when (RedisLink.IsFailure(e))
        {
            // The attempt then stays in flight for a minute: refusing early, never late.
            log.LogWarning("Redis did not take the end of a login attempt ({Error})", e.GetType().Name);
        }
    }

    /// <summary>Takes a place in a window: null, or seconds until a failure leaves it (429), or 0 when attempts in flight fill it.</summary>
    private int? Take(string key, int limit, long now, long id)
    {
        while (true)
        {
            var w = _windows.GetOrAdd(key, _ => new Window());
            lock (w)
            {
                if (w.Removed) continue; // the sweep took it out meanwhile: take the new one
                w.Trim(now - WindowMs, now - InFlightMs);
                var failures = w.Entries.Count(e => e.Failed);
                if (failures >= limit) return Seconds(w.Entries.First(e => e.Failed).At + WindowMs - now);
                if (w.Entries.Count >= limit) return 0;
                w.Entries.Add(new Entry(now, id, Failed: false));
                return null;
            }
        }
    }

    private void End(string key, long id, bool failed)
    {
        if (!_windows.TryGetValue(key, out var w)) return;
        lock (w)
        {
            w.Entries.RemoveAll(e => e.Id == id);
            if (failed) w.Entries.Add(new Entry(NowMs, id, Failed: true));
        }
    }

    /// <summary>Drops windows with nothing left in them, so guessed usernames do not pile up in memory.</summary>
    private void Sweep(long now)
    {
        foreach (var (key, w) in _windows)
        {
            lock (w)
            {
                w.Trim(now - WindowMs, now - InFlightMs);
                if (w.Entries.Count > 0) continue;
                w.Removed = true;
                _windows.TryRemove(new KeyValuePair<string, Window>(key, w));
            }
        }
    }

    private readonly record struct Entry(long At, long Id, bool Failed);

    private sealed class Window
    {
        public readonly List<Entry> Entries = [];
        public bool Removed;

        /// <summary>Failures older than the window go, and attempts in flight for longer than a login can take.</summary>
        public void Trim(long failuresFrom, long inFlightFrom) =>
            Entries.RemoveAll(e => e.Failed ? e.At <= failuresFrom : e.At <= inFlightFrom);
    }
}

/// <summary>
/// One login attempt's place in the throttle. Dispose it when the attempt is over: after <see cref="Fail"/> (the
/// username, password or key was wrong) it stays as a failure for the window, otherwise its place is given back.
/// </summary>
public sealed class LoginAttempt(Func<bool, ValueTask>? end) : IAsyncDisposable
{
    private Func<bool, ValueTask>? _end = end;
    private bool _failed;

    /// <summary>Refused: too many recent failures; seconds until the oldest leaves the window (429).</summary>
    public int? RetryAfter { get; private init; }

    /// <summary>Refused: failures and attempts in flight fill the window; try again in a second (503).</summary>
    public bool Busy { get; private init; }

    public static LoginAttempt Refused(int seconds) => new(null) { RetryAfter = seconds };

    public static LoginAttempt TooManyInFlight => new(null) { Busy = true };

    public void Fail() => _failed = true;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _end, null) is { } end) await end(_failed);
    }
}
