using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Keygate.Tests;

/// <summary>
/// /metrics after a full journey (contract D): OpenTelemetry's Prometheus text, which promtool accepts, with every
/// label value from an allow-list, so no label ever carries an org, a user or a secret.
/// </summary>
public sealed class MetricsTests
{
    /// <summary>Label name → the values it may take. Bounded sets are listed; free-form names get a pattern no id fits.</summary>
    private static readonly Dictionary<string, Regex> AllowList = new()
    {
        ["outcome"] = new(@"^([A-Z_]+|ok|upstream_error|unavailable|timeout|aborted|delivered|failed|gave_up)$"),
        ["code"] = new(@"^[A-Z_]+$"),
        ["action"] = new(@"^[a-z_]+(\.[a-z_]+)+$"),
        ["le"] = new(@"^(\+Inf|[0-9.e+-]+)$"),
        ["http_request_method"] = new(@"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|_OTHER)$"),
        ["http_response_status_code"] = new(@"^\d{3}$"),
        ["http_route"] = new(@"^[A-Za-z0-9/{}*:._\-]*$"),
        ["url_scheme"] = new(@"^https?$"),
        ["network_protocol_name"] = new(@"^http$"),
        ["network_protocol_version"] = new(@"^[0-9.]+$"),
        ["network_transport"] = new(@"^(tcp|unix|pipe)$"),
        ["network_type"] = new(@"^ipv[46]$"),
        ["server_address"] = new(@"^(127\.0\.0\.1|::1|localhost|\[::1\])$"), // Kestrel's own listen address only
        ["server_port"] = new(@"^\d+$"),
        ["error_type"] = new(@"^[A-Za-z0-9_.]+$"),
        ["aspnetcore_routing_is_fallback"] = new(@"^(true|false)$"),
        ["aspnetcore_routing_match_status"] = new(@"^(success|failure)$"),
        ["aspnetcore_authentication_result"] = new(@"^[a-z_]+$"),
        ["aspnetcore_authentication_scheme"] = new(@"^[A-Za-z]+$"),
        ["aspnetcore_authorization_result"] = new(@"^[a-z_]+$"),
        ["aspnetcore_authorization_policy"] = new(@"^[A-Za-z]*$"),
        ["aspnetcore_user_is_authenticated"] = new(@"^(true|false)$"),
        ["aspnetcore_memory_pool_owner"] = new(@"^[a-z_]+$"),
        ["aspnetcore_rate_limiting_result"] = new(@"^[a-z_]+$"),
        ["gc_heap_generation"] = new(@"^(gen0|gen1|gen2|loh|poh)$"),
        ["dotnet_gc_heap_generation"] = new(@"^(gen0|gen1|gen2|loh|poh)$"),
        ["cpu_mode"] = new(@"^(user|system)$"),
        ["tls_protocol_version"] = new(@"^[0-9.]+$"),
        ["db_client_connection_state"] = new(@"^(idle|used)$"),
        ["db_system"] = new(@"^postgresql$"),
        ["service_name"] = new(@"^keygate$"),
        ["service_instance_id"] = new(@"^[0-9a-f-]{36}$"),
        ["telemetry_sdk_name"] = new(@"^opentelemetry$"),
        ["telemetry_sdk_language"] = new(@"^dotnet$"),
        ["telemetry_sdk_version"] = new(@"^[0-9.]+$"),
    };

    [Fact]
    public async Task AfterAFullJourneyEveryLabelIsOnTheAllowListAndPromtoolAcceptsTheText()
    {
        await using var j = await TelemetryJourney.StartAsync();
        var org = await j.RunAsync();
        var text = await j.MetricsAsync();

        foreach (var series in new[]
        {
            "keygate_legacy_logins_total{outcome=\"SUCCESS\"} 1", "keygate_legacy_logins_total{outcome=\"INVALID_USERNAME_OR_PASSWORD\"} 1",
            "keygate_login_duration_seconds_bucket{outcome=\"SUCCESS\",le=\"+Inf\"} 1", "keygate_refusals_total{code=\"API_KEY_DISABLED\"} 1",
            "keygate_changes_total{action=\"key.disable\"} 1", "keygate_change_duration_seconds_count{action=\"key.enable\"} 1",
            "keygate_gateway_forwards_total{outcome=\"ok\"} 1", "keygate_upstream_duration_seconds_count{outcome=\"ok\"} 1",
            "keygate_webhook_deliveries_total{outcome=\"delivered\"} 2", "keygate_sessions_live{} ", "keygate_orgs_cached{} ",
            "keygate_meter_redis_fallback_active{} 0", "keygate_audit_dropped_total{} 0", "http_server_request_duration_seconds_bucket{",
        })
            Assert.True(text.Contains(series), $"/metrics has no {series}:\n{text}");

        var labels = TelemetryJourney.Labels(text).ToList();
        Assert.NotEmpty(labels);
        foreach (var (metric, label, value) in labels)
        {
            Assert.True(AllowList.TryGetValue(label, out var allowed), $"{metric} has label {label}, which is not on the allow-list");
            Assert.True(allowed.IsMatch(value), $"{metric}{{{label}=\"{value}\"}}: the value is not allowed");
        }
        Assert.DoesNotContain(org.Username, text);
        Assert.DoesNotMatch($"(?<!le)=\"{org.Id}\"", text);

        var (status, output) = await PromtoolAsync(["check", "metrics"], text);
        Assert.True(status == 0, "promtool check metrics:\n" + output);
    }

    /// <summary>Runs Debian's promtool (scripts/install-test-deps.sh installs the prometheus package).</summary>
    internal static async Task<(int Status, string Output)> PromtoolAsync(string[] args, string? stdin = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("promtool") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        if (stdin is not null) await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }
}
