using System.Collections.Concurrent;

namespace Keygate.Portal;

/// <summary>
/// Portal cookies are self-contained, so deleting one at logout would not stop a copy of it. The ids of
/// logged-out logins are kept here until every copy has expired on its own (30 idle minutes), and refused.
/// This node only: on several nodes a copied cookie still ends with the idle timeout.
/// </summary>
public sealed class PortalLogouts(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, long> _until = new();

    public void Add(string sessionId)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (id, until) in _until)
            if (until <= now) _until.TryRemove(id, out _);
        _until[sessionId] = now + (long)PortalAuth.IdleTimeout.TotalMilliseconds;
    }

    public bool IsLoggedOut(string sessionId) => _until.ContainsKey(sessionId);
}
