using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Keygate.Tests;

/// <summary>
/// A real Prometheus (Debian's, from scripts/install-test-deps.sh) scrapes a running Keygate over its socket while a
/// journey runs; its HTTP API then has Keygate's series, as an operator's Prometheus would.
/// </summary>
public sealed class PrometheusTests
{
    [Fact]
    public async Task ARealPrometheusScrapesKeygateAndHasItsSeries()
    {
        await using var j = await TelemetryJourney.StartAsync();
        await using var prometheus = await PrometheusProcess.StartAsync(j.App.BaseAddress);
        await j.RunAsync();

        foreach (var query in new[]
        {
            "up{job=\"keygate\"} == 1",
            "keygate_legacy_logins_total{outcome=\"SUCCESS\"} >= 1",
            "keygate_refusals_total{code=\"API_KEY_DISABLED\"} >= 1",
            "keygate_gateway_forwards_total{outcome=\"ok\"} >= 1",
            "keygate_webhook_deliveries_total{outcome=\"delivered\"} >= 2",
            "keygate_upstream_duration_seconds_count >= 1",
            "http_server_request_duration_seconds_count{http_route=\"/api/v1/auth\"} >= 1",
        })
            await TelemetryJourney.Until(async () => (await prometheus.QueryAsync(query)).GetArrayLength() > 0);
    }
}

/// <summary>/usr/bin/prometheus on a free loopback port, scraping one target every second, its data in a temporary folder.</summary>
public sealed class PrometheusProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly HttpClient _http;

    private PrometheusProcess(Process process, string folder, Uri api)
    {
        _process = process;
        _folder = folder;
        _http = new HttpClient { BaseAddress = api };
    }

    public static async Task<PrometheusProcess> StartAsync(Uri target)
    {
        var folder = Directory.CreateTempSubdirectory("keygate-prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: keygate
                static_configs:
                  - targets: ["{target.Authority}"]
            """);
        var port = FreePort();
        var start = new ProcessStartInfo("prometheus") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(folder, "data"), $"--web.listen-address=127.0.0.1:{port}" })
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var p = new PrometheusProcess(process, folder, new Uri($"http://127.0.0.1:{port}/"));
        await TelemetryJourney.Until(async () =>
        {
            try { return (await p._http.GetAsync("-/ready")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { return false; }
        });
        return p;
    }

    /// <summary>An instant query; the result vector.</summary>
    public async Task<JsonElement> QueryAsync(string promql)
    {
        var body = await _http.GetStringAsync("api/v1/query?query=" + Uri.EscapeDataString(promql));
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("data").GetProperty("result").Clone();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
