using Keygate.Data;

namespace Keygate.Metering;

/// <summary>
/// Per-org call counters in fixed windows aligned to the epoch. In memory on a single node; a Redis
/// implementation shares them between nodes. Implementations must be exact under concurrency: call N+1 of a
/// window is the first refused, whatever the interleaving.
/// </summary>
public interface IUsageCounter
{
    /// <summary>
    /// Checks the rate limits and, if they allow it, counts the call against them and the threshold.
    /// <paramref name="uncheckedVersion"/> is the org StateVersion the caller decided on without asking the cluster
    /// whether it is still the newest, or -1 (it asked, or this is a single node, whose snapshot is always current).
    /// The cluster counter checks it in the same Redis script as the count, and answers
    /// <see cref="MeterOutcome.Stale"/>, counting nothing, when the org has moved on or it cannot tell.
    /// </summary>
    ValueTask<MeterDecision> CountCallAsync(long orgId, MethodWeight weight, OrgLimits limits, long nowMs, long uncheckedVersion);

    /// <summary>Takes one sandbox submission from the rate and daily quota, or says how long to wait.</summary>
    ValueTask<MeterDecision> TakeSandboxAsync(long orgId, OrgLimits limits, long nowMs);

    /// <summary>Gives back a sandbox submission that was never forwarded.</summary>
    ValueTask ReturnSandboxAsync(long orgId, long nowMs);

    /// <summary>
    /// Starts a fresh threshold window (the provider enabled a threshold-disabled key). The reset is written in
    /// <paramref name="db"/>'s open transaction, the enable's, so a crash after the enable's commit cannot bring the
    /// old count back; the returned step applies it to the live counters once that transaction has committed.
    /// </summary>
    Task<Func<ValueTask>> ResetThresholdAsync(AppDbContext db, long orgId, long nowMs);

    ValueTask<UsageView> ReadAsync(long orgId, OrgLimits limits, long nowMs);

    /// <summary>The org was deleted: its counters and unsaved history go, so no later flush writes them back.</summary>
    void Forget(long orgId);
}
