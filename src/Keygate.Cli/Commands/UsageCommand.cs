using System.CommandLine;
using Spectre.Console;

namespace Keygate.Cli.Commands;

/// <summary>keygate usage: the org's calls against its threshold and rate limits (GET /api/v1/usage).</summary>
public static class UsageCommand
{
    public static Command Create(Cli cli)
    {
        var cmd = cli.Command("usage", "Show the organization's API calls in the current window, its rate limits and the sandbox quota.",
            "keygate usage", "keygate usage --json | jq .remaining");
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var response = await cli.OnSessionAsync((c, _) => c.GetAsync("api/v1/usage", ct));
            Print(output, response);
            return ExitCodes.Success;
        });
        return cmd;
    }

    public static void Print(Output output, ApiResponse response)
    {
        if (output.Json) { output.Raw(response.Body); return; }
        var u = response.As<Usage>();
        output.Write(Output.Pairs(
        [
            ("Window", $"{Output.Time(u.WindowStart)} + {Output.N(u.WindowSeconds)} s"),
            ("Calls", $"{Output.N(u.Calls)} of {Output.N(u.Threshold)} ({Output.N(u.Remaining)} left; warning at {u.WarnAtPercent}%)"),
            ("Sandbox", $"{Output.N(u.Sandbox.UsedToday)} of {Output.N(u.Sandbox.DailyQuota)} files today"),
        ]));
        var t = Output.Table("RATE", "LIMIT", "USED", "PER HOUR", "USED THIS HOUR");
        Output.Row(t, "light (GET)", $"{Output.N(u.Rates.Light.PerSecond)}/s", Output.N(u.Rates.Light.UsedThisSecond),
            Output.N(u.Rates.Light.PerHour), Output.N(u.Rates.Light.UsedThisHour));
        Output.Row(t, "medium (POST, PUT)", $"{Output.N(u.Rates.Medium.PerSecond)}/s", Output.N(u.Rates.Medium.UsedThisSecond),
            Output.N(u.Rates.Medium.PerHour), Output.N(u.Rates.Medium.UsedThisHour));
        Output.Row(t, "heavy (DELETE)", $"{Output.N(u.Rates.Heavy.PerMinute)}/min", Output.N(u.Rates.Heavy.UsedThisMinute),
            Output.N(u.Rates.Heavy.PerHour), Output.N(u.Rates.Heavy.UsedThisHour));
        output.Write(t);
    }
}
