using System.Globalization;
using Keygate.Metering;

namespace Keygate.Portal;

/// <summary>
/// The usage chart's geometry (Pages/Shared/_UsageChart.cshtml draws it as SVG): one bar per hour of the threshold
/// window, each the running total of calls since the window's first hour, its own hour's calls as the top segment,
/// against horizontal lines at the warning level and the threshold. A running total is what the two lines limit,
/// so the bars meet them where the org would. Coordinates are in the SVG's viewBox units.
/// </summary>
public sealed record UsageChart(IReadOnlyList<UsageChart.Bar> Bars, UsageChart.Level Threshold, UsageChart.Level Warning,
    long Total, IReadOnlyList<UsageChart.Tick> Ticks)
{
    public const double Width = 720, Height = 260, Left = 8, Right = 8, Top = 24, Bottom = 28;
    public const double PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom, Baseline = Top + PlotHeight;
    /// <summary>A longer window shows its last 48 hours (the running total still counts from its start).</summary>
    public const int MaxHours = 48;

    /// <summary>
    /// One hour: its calls and the running total before it; <see cref="Y"/> is the top of the bar, <see cref="SplitY"/>
    /// where the hour's own calls begin. An hour still to come has no bar (<see cref="Future"/>).
    /// </summary>
    public sealed record Bar(long HourStartMs, long Calls, long Before, bool Future, double X, double BarWidth, double Y, double SplitY);
    public sealed record Level(long Calls, double Y);
    public sealed record Tick(double X, string Label);

    public static UsageChart Build(UsageView view, long warnAt, IReadOnlyDictionary<long, long> hourly, long nowMs)
    {
        var (first, end) = Hours(view, nowMs);
        var before = hourly.Where(h => h.Key < first).Sum(h => h.Value);
        var count = (int)((end - first) / Meter.Hour);
        var total = before + hourly.Where(h => h.Key >= first && h.Key < end).Sum(h => h.Value);
        var top = Math.Max(1, Math.Max(view.Threshold, total)) * 1.1;
        double Y(long calls) => Math.Round(Baseline - PlotHeight * calls / top, 1);
        var slot = PlotWidth / count;
        var bars = new List<Bar>(count);
        var ticks = new List<Tick>();
        var every = Math.Max(1, (int)Math.Ceiling(count / 8.0));
        for (var i = 0; i < count; i++)
        {
            var hour = first + i * Meter.Hour;
            var calls = hourly.GetValueOrDefault(hour);
            var x = Math.Round(Left + i * slot + slot * 0.15, 1);
            bars.Add(new Bar(hour, calls, before, hour > nowMs, x, Math.Round(slot * 0.7, 1), Y(before + calls), Y(before)));
            if (i % every == 0)
                ticks.Add(new Tick(Math.Round(Left + i * slot + slot / 2, 1), DateTimeOffset.FromUnixTimeMilliseconds(hour).ToString("HH:mm", CultureInfo.InvariantCulture)));
            before += calls;
        }
        return new UsageChart(bars, new Level(view.Threshold, Y(view.Threshold)), new Level(warnAt, Y(warnAt)), total, ticks);
    }

    /// <summary>The hours the chart reads: from the one holding the window's start to the one holding its end.</summary>
    public static (long First, long End) Hours(UsageView view, long nowMs)
    {
        var start = view.WindowStart * Meter.Second;
        var first = Meter.Window.StartOf(start, Meter.Hour);
        var end = Meter.Window.StartOf(start + view.WindowSeconds * Meter.Second - 1, Meter.Hour) + Meter.Hour;
        if ((end - first) / Meter.Hour > MaxHours)
        {
            end = Math.Min(end, Meter.Window.StartOf(nowMs, Meter.Hour) + Meter.Hour);
            first = Math.Max(first, end - MaxHours * Meter.Hour);
        }
        return (first, end);
    }

    /// <summary>Reads the org's hours from the window's first (where the running total starts) and builds the chart.</summary>
    public static async Task<UsageChart> ReadAsync(UsageHistory history, long orgId, UsageView view, long warnAt, long nowMs, CancellationToken ct)
    {
        var from = Meter.Window.StartOf(view.WindowStart * Meter.Second, Meter.Hour);
        return Build(view, warnAt, await history.HourlyAsync(orgId, from, Hours(view, nowMs).End, ct), nowMs);
    }

    /// <summary>A coordinate as SVG wants it, whatever the request's culture.</summary>
    public static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
}
