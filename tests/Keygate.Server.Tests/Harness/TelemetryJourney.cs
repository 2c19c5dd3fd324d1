using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Keygate.Tests;

/// <summary>
/// Keygate behind its gateway (real sockets) with an operator webhook receiver, and a journey that touches every
/// Keygate metric: logins (one failed), a gateway forward, a legacy call, a key change, a refusal, a webhook delivery.
/// </summary>
public sealed partial class TelemetryJourney : IAsyncDisposable
{
    public required GatewayHost Gateway { get; init; }
    public required WebhookReceiver Receiver { get; init; }
    public KeygateApp App => Gateway.App;

    public static async Task<TelemetryJourney> StartAsync()
    {
        var receiver = await WebhookReceiver.StartAsync();
        var gateway = await GatewayHost.StartAsync(new()
        {
            ["Keygate:Webhooks:AllowPrivateNetworks"] = "true",
            ["Keygate:Webhooks:OperatorUrls:0"] = receiver.Url("/operator"),
            ["Keygate:Webhooks:OperatorSecret"] = "operator-secret-0123456789",
        });
        return new TelemetryJourney { Gateway = gateway, Receiver = receiver };
    }

    /// <summary>Runs the journey and returns its org (the test checks that nothing of it shows in a label).</summary>
    public async Task<TestOrg> RunAsync()
    {
        var org = await App.CreateOrgAsync();
        var key = await App.KeyValueAsync(org);
        await (await App.LoginAsync(org.Username, "wrong-password", key)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        using var c = await App.SessionAsync(org);
        await (await c.GetAsync("/api/v1/ecgroup")).AssertOk(); // the gateway
        await (await c.GetAsync("/api/v1/apiKeys")).AssertOk(); // Keygate's own legacy route
        await (await App.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Scenario.Json(new { reason = "OTHER", note = "telemetry journey" }))).AssertOk();
        await (await c.GetAsync("/api/v1/ecgroup")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await App.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/enable", null)).AssertOk();
        // The deliveries run in the background: wait until the receiver has both events and Keygate has counted them.
        await Until(async () => Receiver.Delivered().Length >= 2 && (await MetricsAsync()).Contains("keygate_webhook_deliveries_total{outcome=\"delivered\"} 2"));
        return org;
    }

    public async Task<string> MetricsAsync()
    {
        using var c = App.Client();
        return await c.GetStringAsync("/metrics");
    }

    public static async Task Until(Func<Task<bool>> condition, int seconds = 60)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(seconds)) throw new Xunit.Sdk.XunitException($"not reached within {seconds} s");
            await Task.Delay(200);
        }
    }

    /// <summary>Every (metric, label, value) of a Prometheus text exposition.</summary>
    public static IEnumerable<(string Metric, string Label, string Value)> Labels(string exposition)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var m = SampleLine().Match(line);
            if (!m.Success) throw new Xunit.Sdk.XunitException("not a sample line: " + line);
            foreach (Match l in LabelPair().Matches(m.Groups["labels"].Value))
                yield return (m.Groups["name"].Value, l.Groups[1].Value, l.Groups[2].Value);
        }
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? \S+( \d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}
