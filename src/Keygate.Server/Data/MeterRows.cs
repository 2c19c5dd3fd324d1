namespace Keygate.Data;

/// <summary>The durable part of an org's meter: the threshold window and the sandbox day, restored after a restart.</summary>
public sealed class MeterState
{
    public long OrganizationId { get; set; }
    public long ThresholdWindowStartMs { get; set; }
    public long ThresholdCount { get; set; }
    public long WarnedWindowStartMs { get; set; } = -1;
    public long SandboxDayStartMs { get; set; }
    public long SandboxDayCount { get; set; }
    /// <summary>
    /// How many times the threshold window was reset (an enable after the threshold). The enable bumps it in its own
    /// transaction; a flush taken before the node applied that reset carries the old number and leaves the
    /// threshold fields alone, so it cannot write the old count back over the reset.
    /// </summary>
    public long ThresholdResets { get; set; }
}

/// <summary>Usage history: calls per org per hour, by weight.</summary>
public sealed class UsageBucket
{
    public long OrganizationId { get; set; }
    public long HourStartMs { get; set; }
    public long Light { get; set; }
    public long Medium { get; set; }
    public long Heavy { get; set; }
}

/// <summary>
/// The durable copy of a cluster's counters (with Keygate:Redis): one row per org and window slot
/// (<see cref="Meter.Names"/>), holding the calls of its current window. Nodes add what they counted in Redis
/// every 2 seconds; while Redis is unreachable they count here directly (<see cref="DatabaseUsageCounter"/>).
/// </summary>
public sealed class MeterWindow
{
    public long OrganizationId { get; set; }
    public string Name { get; set; } = "";
    public long WindowStartMs { get; set; }
    public long Count { get; set; }
    /// <summary>The part of <see cref="Count"/> counted here while Redis was away, not yet added to Redis.</summary>
    public long Unmerged { get; set; }
}
