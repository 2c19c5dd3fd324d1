using System.Globalization;
using System.Text.RegularExpressions;

namespace Keygate.Tests;

/// <summary>The usage chart (Shared/_UsageChart.cshtml) on the portal's usage page and the console's org page, over HTTP.</summary>
public sealed partial class UsageChartTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    [GeneratedRegex("<g class=\"chart-hour\" data-hour=\"(\\d+)\" data-calls=\"(\\d+)\"")]
    private static partial Regex Bar();

    [GeneratedRegex("<tr data-hour=\"(\\d+)\" data-calls=\"(\\d+)\"")]
    private static partial Regex Row();

    [GeneratedRegex("<line class=\"chart-(warning|threshold)\" data-calls=\"(\\d+)\"[^>]* y1=\"([\\d.]+)\"")]
    private static partial Regex Level();

    [GeneratedRegex("<rect class=\"chart-calls\" x=\"[\\d.]+\" width=\"[\\d.]+\" y=\"([\\d.]+)\"")]
    private static partial Regex Top();

    private static double Number(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    /// <summary>
    /// The page's bars, by hour, and its table agree and sum to <paramref name="calls"/>; the warning and threshold
    /// lines sit where their call counts fall on the scale, which the running total's top also follows.
    /// </summary>
    private static Dictionary<long, long> AssertChart(string html, long calls, long warnAt, long threshold)
    {
        var bars = Bar().Matches(html).ToDictionary(m => long.Parse(m.Groups[1].Value), m => long.Parse(m.Groups[2].Value));
        var rows = Row().Matches(html).ToDictionary(m => long.Parse(m.Groups[1].Value), m => long.Parse(m.Groups[2].Value));
        Assert.Equal(bars, rows);
        Assert.Equal(calls, bars.Values.Sum());

        var top = Math.Max(threshold, calls) * 1.1;
        double Y(long n) => Math.Round(UsageChart.Baseline - UsageChart.PlotHeight * n / top, 1);
        var levels = Level().Matches(html).ToDictionary(m => m.Groups[1].Value, m => (Calls: long.Parse(m.Groups[2].Value), Y: Number(m.Groups[3].Value)));
        Assert.Equal((warnAt, Y(warnAt)), levels["warning"]);
        Assert.Equal((threshold, Y(threshold)), levels["threshold"]);
        Assert.True(levels["threshold"].Y < levels["warning"].Y, "the threshold line is above the warning line");
        // The newest bar's top is the running total of every call.
        Assert.Equal(Y(calls), Number(Top().Matches(html)[^1].Groups[1].Value));
        Assert.Contains("role=\"img\" aria-labelledby=\"usage-chart-title usage-chart-desc\"", html);
        return bars;
    }

    private static async Task<long> Calls(KeygateApp app, TestOrg org) =>
        (await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/usage")).AssertOk()).GetProperty("calls").GetInt64();

    [Fact]
    public async Task TheUsagePageAndTheConsoleChartEveryCallByHourAgainstTheWarningAndThreshold()
    {
        // A day's window (warning at 80 %), from midnight: the calls fall in its first and third hours.
        var now = app.NowMs;
        app.Clock.Advance(TimeSpan.FromMilliseconds(86_400_000 - now % 86_400_000 + 60_000));
        var org = await app.CreateOrgAsync(defaultLimits: true);
        await (await app.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/limits", Scenario.Json(Scenario.ThresholdOnly(40)))).AssertOk();
        using (var session = await app.SessionAsync(org))
            for (var i = 0; i < 7; i++) await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        var early = await Calls(app, org);
        app.Clock.Advance(TimeSpan.FromHours(2));
        using (var session = await app.SessionAsync(org)) // the first one has timed out
            for (var i = 0; i < 5; i++) await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        var calls = await Calls(app, org);
        Assert.True(calls >= 12 && early >= 7, $"{early}, then {calls} calls counted");

        using var portal = await app.PortalLoginAsync(org.Username, org.Password);
        var bars = AssertChart(await portal.GetStringAsync("/admin/usage"), calls, warnAt: 32, threshold: 40);
        var hour = app.NowMs - app.NowMs % 3_600_000;
        Assert.Equal(calls - early, bars[hour]);
        Assert.Equal(0, bars[hour - 3_600_000]);
        Assert.Equal(early, bars[hour - 2 * 3_600_000]);
        Assert.Equal(3, bars.Count); // the hours still to come have no bar

        using var console = await app.PortalLoginAsync(await app.CreateStaffAsync(), Scenario.Password);
        AssertChart(await console.GetStringAsync($"/console/organizations/{org.Id}"), calls, warnAt: 32, threshold: 40);
    }
}
