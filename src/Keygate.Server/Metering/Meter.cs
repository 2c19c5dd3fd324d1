using Keygate.Data;

namespace Keygate.Metering;

/// <summary>
/// One org's metering windows and the rules of contract A5 over them: check the rate windows first, then
/// move every counter together, so a refused call is never counted. It is not thread-safe: the memory
/// counter holds its per-org lock around it and the database fallback the org's transaction lock. The Redis
/// counter runs the same rules in Lua (<see cref="RedisUsageCounter"/>), on windows stored under the same
/// <see cref="Names"/>.
/// </summary>
public sealed class Meter
{
    public const long Second = 1000, Minute = 60_000, Hour = 3_600_000, Day = 86_400_000;
    /// <summary>Sandbox submissions per hour (contract A6); the per-second limit is one.</summary>
    public const int SandboxPerHour = 400;

    /// <summary>
    /// The windows, by slot: per weight w, [2w] the short window (second, or minute for heavy) and [2w+1] the
    /// hour; then the threshold window and the sandbox's second, hour and day.
    /// </summary>
    public const int ThresholdSlot = 6, SandboxSecondSlot = 7, SandboxHourSlot = 8, SandboxDaySlot = 9, Slots = 10;

    /// <summary>What each slot is called in Redis and in the MeterWindows table.</summary>
    public static readonly string[] Names = ["ls", "lh", "ms", "mh", "hm", "hh", "t", "ss", "sh", "sd"];
    /// <summary>The threshold window in which the warning went out, stored beside the slots.</summary>
    public const string WarnedName = "w";

    /// <summary>A fixed window aligned to the epoch.</summary>
    public struct Window
    {
        public long Start;
        public long Count;

        public static long StartOf(long now, long length) => now - now % length;

        public void Roll(long now, long length)
        {
            var start = StartOf(now, length);
            if (start != Start) (Start, Count) = (start, 0);
        }

        public readonly int RetryAfter(long now, long length) => (int)Math.Max(1, (Start + length - now + 999) / 1000);

        /// <summary>What X-RateLimit-* say of this window with <paramref name="limit"/> (contract A5).</summary>
        public readonly RateWindow Report(long now, long length, int limit) =>
            new(limit, Math.Max(0, limit - Count), RetryAfter(now, length));
    }

    /// <summary>A weight's two rate windows: their slots, the short one's length, the limits and its unit.</summary>
    public readonly record struct Rate(int FastSlot, int SlowSlot, long FastLength, int FastLimit, int SlowLimit, string Unit)
    {
        public MeterDecision FastLimited(long now) => Limited(now, FastLength, $"{FastLimit}/{Unit}", FastLimit);
        public MeterDecision SlowLimited(long now) => Limited(now, Hour, $"{SlowLimit}/HOUR", SlowLimit);

        /// <summary>The window to report for an accepted call that made the short and hour windows' counts these.</summary>
        public RateWindow Report(long now, long fastCount, long slowCount) => RateWindow.Fewest(
            new Window { Start = Window.StartOf(now, FastLength), Count = fastCount }.Report(now, FastLength, FastLimit),
            new Window { Start = Window.StartOf(now, Hour), Count = slowCount }.Report(now, Hour, SlowLimit));
    }

    /// <summary>A refusal by the window of <paramref name="length"/> that holds <paramref name="now"/>; the wait is to its end.</summary>
    public static MeterDecision Limited(long now, long length, string limit, int limitCount = 0)
    {
        var wait = new Window { Start = Window.StartOf(now, length) }.RetryAfter(now, length);
        return new(MeterOutcome.RateLimited, wait, limit, Rate: new RateWindow(limitCount, 0, wait));
    }

    /// <summary>The sandbox refusal by its second (0), hour (1) or day (2) window.</summary>
    public static MeterDecision SandboxLimited(int window, OrgLimits limits, long now) => window switch
    {
        0 => Limited(now, Second, "1/SECOND"),
        1 => Limited(now, Hour, $"{SandboxPerHour}/HOUR"),
        _ => Limited(now, Day, $"{limits.SandboxDailyQuota}/DAY"),
    };

    public static Rate RateOf(MethodWeight weight, OrgLimits limits) => weight switch
    {
        MethodWeight.Light => new(0, 1, Second, limits.LightPerSecond, limits.LightPerHour, "SECOND"),
        MethodWeight.Medium => new(2, 3, Second, limits.MediumPerSecond, limits.MediumPerHour, "SECOND"),
        _ => new(4, 5, Minute, limits.HeavyPerMinute, limits.HeavyPerHour, "MINUTE"),
    };

    /// <summary>The call count at which the warning goes out.</summary>
    /// <remarks>In 128 bits: a threshold near long.MaxValue times a percentage must not overflow into an early warning.</remarks>
    public static long WarnAt(OrgLimits limits) => (long)(((Int128)limits.CallThreshold * limits.WarnAtPercent + 99) / 100);

    /// <summary>The decision for the call that made the threshold window's count <paramref name="calls"/>.</summary>
    public static MeterDecision Counted(long calls, bool warn, OrgLimits limits, RateWindow rate) => calls > limits.CallThreshold
        ? new MeterDecision(MeterOutcome.ThresholdExceeded, Calls: calls, Rate: rate)
        : new MeterDecision(MeterOutcome.Allowed, WarningCrossed: warn, Calls: calls, Rate: rate);

    public readonly Window[] Windows = new Window[Slots];
    public long WarnedWindowStart = -1;

    public ref Window Threshold => ref Windows[ThresholdSlot];
    public ref Window SandboxDay => ref Windows[SandboxDaySlot];

    public MeterDecision CountCall(MethodWeight weight, OrgLimits limits, long now)
    {
        var rate = RateOf(weight, limits);
        ref var fast = ref Windows[rate.FastSlot];
        ref var slow = ref Windows[rate.SlowSlot];
        fast.Roll(now, rate.FastLength);
        slow.Roll(now, Hour);
        // Refused calls are not counted: checks first, then all counters move together.
        if (fast.Count >= rate.FastLimit) return rate.FastLimited(now);
        if (slow.Count >= rate.SlowLimit) return rate.SlowLimited(now);
        fast.Count++;
        slow.Count++;
        Threshold.Roll(now, limits.ThresholdWindowSeconds * Second);
        var calls = ++Threshold.Count;
        var warn = calls <= limits.CallThreshold && calls >= WarnAt(limits) && WarnedWindowStart != Threshold.Start;
        if (warn) WarnedWindowStart = Threshold.Start;
        return Counted(calls, warn, limits, rate.Report(now, fast.Count, slow.Count));
    }

    public MeterDecision TakeSandbox(OrgLimits limits, long now)
    {
        ref var second = ref Windows[SandboxSecondSlot];
        ref var hour = ref Windows[SandboxHourSlot];
        second.Roll(now, Second);
        hour.Roll(now, Hour);
        SandboxDay.Roll(now, Day);
        if (second.Count >= 1) return SandboxLimited(0, limits, now);
        if (hour.Count >= SandboxPerHour) return SandboxLimited(1, limits, now);
        if (SandboxDay.Count >= limits.SandboxDailyQuota) return SandboxLimited(2, limits, now);
        second.Count++;
        hour.Count++;
        return new MeterDecision(MeterOutcome.Allowed, Calls: ++SandboxDay.Count);
    }

    public void ReturnSandbox(long now)
    {
        if (SandboxDay.Start == Window.StartOf(now, Day) && SandboxDay.Count > 0) SandboxDay.Count--;
    }

    public void ResetThreshold()
    {
        Threshold.Count = 0;
        WarnedWindowStart = -1;
    }

    public UsageView View(OrgLimits limits, long now)
    {
        long Used(int slot, long length) { Windows[slot].Roll(now, length); return Windows[slot].Count; }
        var calls = Used(ThresholdSlot, limits.ThresholdWindowSeconds * Second);
        return new UsageView(Threshold.Start / 1000, limits.ThresholdWindowSeconds, calls, limits.CallThreshold,
            Math.Max(0, limits.CallThreshold - calls), limits.WarnAtPercent,
            new RatesUsage(
                new RateUsage(limits.LightPerSecond, limits.LightPerHour, Used(0, Second), Used(1, Hour)),
                new RateUsage(limits.MediumPerSecond, limits.MediumPerHour, Used(2, Second), Used(3, Hour)),
                new HeavyRateUsage(limits.HeavyPerMinute, limits.HeavyPerHour, Used(4, Minute), Used(5, Hour))),
            new SandboxUsage(limits.SandboxDailyQuota, Used(SandboxDaySlot, Day)));
    }
}
