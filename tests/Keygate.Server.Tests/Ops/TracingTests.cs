using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Keygate.Tests;

/// <summary>
/// Keygate's spans (login, key change with its commit and publish, session-gate refusal, gateway forward) join the
/// caller's W3C trace, and the upstream receives that trace in its traceparent.
/// </summary>
public sealed class TracingTests
{
    [Fact]
    public async Task KeygatesSpansJoinTheCallersTraceAndTheUpstreamGetsItsTraceparent()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Keygate",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var g = await GatewayHost.StartAsync();
        var org = await g.App.CreateOrgAsync();
        var key = await g.App.KeyValueAsync(org);

        var login = ActivityTraceId.CreateRandom();
        using var loginClient = Traced(g.App.Client(), login);
        var r = await loginClient.LoginAsync(org.Username, org.Password, key, g.App.NowMs);
        await r.AssertOk();
        using var c = Traced(g.App.SessionClient(Scenario.SessionIdOf(r)!), ActivityTraceId.CreateRandom());
        var forward = TraceOf(c);
        await (await c.GetAsync("/api/v1/ecgroup")).AssertOk();
        using var upstream = g.Upstream.Client();
        var seen = await (await upstream.GetAsync("/_diag/last-request")).AssertOk();
        Assert.Contains(forward.ToHexString(), seen.GetProperty("traceparent").GetString());

        var change = ActivityTraceId.CreateRandom();
        using var provider = Traced(g.App.Provider(), change);
        await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Scenario.Json(new { reason = "OTHER", note = "traced" }))).AssertOk();
        await (await c.GetAsync("/api/v1/ecgroup")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");

        Activity Span(string name, ActivityTraceId trace) =>
            Assert.Single(spans, s => s.OperationName == name && s.TraceId == trace);
        Assert.Equal("SUCCESS", Span("keygate.login", login).GetTagItem("keygate.outcome"));
        Assert.Equal("ok", Span("keygate.gateway.forward", forward).GetTagItem("keygate.outcome"));
        var changeSpan = Span("keygate.change", change);
        Assert.Equal("key.disable", changeSpan.GetTagItem("keygate.action"));
        Assert.Equal(changeSpan.SpanId, Span("keygate.change.commit", change).ParentSpanId);
        Assert.Equal(changeSpan.SpanId, Span("keygate.change.publish", change).ParentSpanId);
        Assert.Equal("API_KEY_DISABLED", Span("keygate.session_gate.refusal", forward).GetTagItem("keygate.code"));
        // Never a secret in a tag: no key value, password or session id.
        var sessionId = Scenario.SessionIdOf(r)!;
        Assert.All(spans.SelectMany(s => s.TagObjects), t => Assert.DoesNotContain(t.Value?.ToString() ?? "", new[] { key, org.Password, sessionId }));
    }

    private static HttpClient Traced(HttpClient c, ActivityTraceId trace)
    {
        c.DefaultRequestHeaders.Add("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        return c;
    }

    private static ActivityTraceId TraceOf(HttpClient c) =>
        ActivityTraceId.CreateFromString(c.DefaultRequestHeaders.GetValues("traceparent").Single().Split('-')[1]);
}
