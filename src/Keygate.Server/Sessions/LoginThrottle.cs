using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Keygate;

/// <summary>
/// Brute-force throttling of logins (contract A2): failures per username and per client address in a
/// sliding window. Attempt N+1 after N recent failures is refused until the oldest failure leaves the window.
/// </summary>
public sealed class LoginThrottle(TimeProvider clock, IOptions<KeygateOptions> options)
{
    private readonly ConcurrentDictionary<string, Queue<long>> _failures = new();

    private LoginThrottleOptions O => options.Value.LoginThrottle;

    /// <summary>Seconds to wait if the username or the address is throttled, else null.</summary>
    public int? RetryAfter(string username, string address)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var a = Check("u:" + Account.Normalize(username), O.FailuresPerUsername, now);
        var b = Check("a:" + address, O.FailuresPerAddress, now);
        return a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);
    }

    public void RecordFailure(string username, string address)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        Record("u:" + Account.Normalize(username), now);
        Record("a:" + address, now);
    }

    private void Record(string k, long now)
    {
        var q = _failures.GetOrAdd(k, _ => new Queue<long>());
        lock (q)
        {
            Trim(q, now);
            q.Enqueue(now);
        }
    }

    private int? Check(string k, int limit, long now)
    {
        if (!_failures.TryGetValue(k, out var q)) return null;
        lock (q)
        {
            Trim(q, now);
            if (q.Count < limit) return null;
            var until = q.Peek() + O.WindowSeconds * 1000L;
            return (int)Math.Max(1, (until - now + 999) / 1000);
        }
    }

    private void Trim(Queue<long> q, long now)
    {
        var from = now - O.WindowSeconds * 1000L;
        while (q.Count > 0 && q.Peek() <= from) q.Dequeue();
    }
}
