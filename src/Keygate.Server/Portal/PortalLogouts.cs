using Keygate.Cluster;
using System.Collections.Concurrent;

namespace Keygate.Portal;

/// <summary>
/// Portal cookies are self-contained, so deleting one at logout would not stop a copy of it. The ids of
/// logged-out logins are kept until every copy has expired on its own (30 idle minutes), and refused.
/// On a cluster (Keygate:Redis) each logout is also a Redis key with that lifetime, so every node refuses the
/// copies; while Redis is unreachable a node refuses those it saw itself, and the idle timeout ends the rest.
/// </summary>
public sealed class PortalLogouts(TimeProvider clock, ILogger<PortalLogouts> log, RedisLink? redis = null)
{
    private readonly ConcurrentDictionary<string, long> _until = new();

    public async Task AddAsync(string sessionId)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (id, until) in _until)
            if (until <= now) _until.TryRemove(id, out _);
        _until[sessionId] = now + (long)PortalAuth.IdleTimeout.TotalMilliseconds;
        if (redis is not { IsUp: true }) return;
        try
        {
            await redis.Db.StringSetAsync(Key(sessionId), 1, PortalAuth.IdleTimeout);
        }
        catch (Exception e) when (RedisLink.IsFailure(e))
        {
            log.LogWarning("Redis did not take a portal logout ({Error}); other nodes refuse its cookie only after the idle timeout", e.GetType().Name);
        }
    }

    public async ValueTask<bool> IsLoggedOutAsync(string sessionId)
    {
        if (_until.ContainsKey(sessionId)) return true;
        if (redis is not { IsUp: true }) return false;
        try
        {
            return await redis.Db.KeyExistsAsync(Key(sessionId));
        }
        catch (Exception e) when (RedisLink.IsFailure(e))
        {
            return false; // as without Redis: this node's own logouts only
        }
    }

    private StackExchange.Redis.RedisKey Key(string sessionId) => redis!.Key("pl:" + sessionId);
}
