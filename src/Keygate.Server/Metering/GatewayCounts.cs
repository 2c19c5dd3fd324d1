using System.Collections.Concurrent;
using Keygate.Data;
using Keygate.Kernel;

namespace Keygate.Metering;

/// <summary>What the gateway did for one org in its current threshold window: calls forwarded (forward-auth answers
/// that let a call through included) and, of those, the ones the upstream failed (502 or 504).</summary>
public sealed record GatewayUsage(long Forwarded, long UpstreamErrors);

/// <summary>
/// The gateway's own per-org counts for the provider console (issue 14): the threshold counts every metered call, these
/// only what went to the upstream and how often it failed. In memory on each node, in the org's threshold window (so
/// they start again with it); on a cluster each node counts what it forwarded itself. They are not kept across a restart.
/// </summary>
public sealed class GatewayCounts(TimeProvider clock)
{
    private sealed class Counts
    {
        public Meter.Window Forwarded;
        public Meter.Window UpstreamErrors;
    }

    private readonly ConcurrentDictionary<long, Counts> _orgs = new();

    public void CountForwarded(long orgId, OrgLimits limits) => Count(orgId, limits, upstreamError: false);

    public void CountUpstreamError(long orgId, OrgLimits limits) => Count(orgId, limits, upstreamError: true);

    public GatewayUsage Read(long orgId, OrgLimits limits)
    {
        if (!_orgs.TryGetValue(orgId, out var c)) return new GatewayUsage(0, 0);
        var (now, length) = (clock.Now(), limits.ThresholdWindowSeconds * Meter.Second);
        lock (c)
        {
            c.Forwarded.Roll(now, length);
            c.UpstreamErrors.Roll(now, length);
            return new GatewayUsage(c.Forwarded.Count, c.UpstreamErrors.Count);
        }
    }

    private void Count(long orgId, OrgLimits limits, bool upstreamError)
    {
        var c = _orgs.GetOrAdd(orgId, _ => new Counts());
        var (now, length) = (clock.Now(), limits.ThresholdWindowSeconds * Meter.Second);
        lock (c)
        {
            ref var window = ref upstreamError ? ref c.UpstreamErrors : ref c.Forwarded;
            window.Roll(now, length);
            window.Count++;
        }
    }
}
