using System.Net;

namespace Keygate.Tests;

/// <summary>Contract A5: rate limits by method weight, the call threshold, its warning, and exact counts.</summary>
public sealed class MeteringTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private async Task<(TestOrg Org, HttpClient Session)> OrgAsync(object? limits = null)
    {
        var org = await app.CreateOrgAsync(defaultLimits: true);
        if (limits is not null)
            await (await app.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/limits", Scenario.Json(limits))).AssertOk();
        return (org, await app.SessionAsync(org));
    }

    private static object Raised(long calls, long windowSeconds = 86400, int warnAtPercent = 80) => new
    {
        callThreshold = new { calls, windowSeconds, warnAtPercent },
        rates = new
        {
            light = new { perSecond = 100_000, perHour = 10_000_000 },
            medium = new { perSecond = 100_000, perHour = 10_000_000 },
            heavy = new { perMinute = 100_000, perHour = 10_000_000 },
        },
    };

    /// <summary>Moves the fake clock to the start of the next whole minute, so windows start clean.</summary>
    private void AlignToMinute()
    {
        var now = app.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        app.Clock.Advance(TimeSpan.FromMilliseconds(60_000 - now % 60_000));
    }

    private static async Task AssertRateLimited(HttpResponseMessage r, string limit, int retryAfter)
    {
        var body = await r.AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED");
        Assert.Equal($"Rate Limit ({limit}) exceeded", body.GetProperty("message").GetString());
        Assert.Equal($"{retryAfter} seconds", body.GetProperty("Retry-After").GetString());
        Assert.Equal(retryAfter.ToString(), r.Headers.GetValues("Retry-After").Single());
    }

    private async Task<long> CallsAsync(TestOrg org) =>
        (await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/usage")).AssertOk()).GetProperty("calls").GetInt64();

    [Fact]
    public async Task LightCallsPassTwicePerSecondAndTheThirdGets429UntilTheSecondEnds()
    {
        var (org, s) = await OrgAsync();
        AlignToMinute();
        await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await s.GetAsync("/api/v1/auth")).AssertOk();
        await AssertRateLimited(await s.GetAsync("/api/v1/apiKeys"), "2/SECOND", 1);
        app.Clock.Advance(TimeSpan.FromMilliseconds(999));
        await AssertRateLimited(await s.GetAsync("/api/v1/apiKeys"), "2/SECOND", 1);
        app.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        // Refused calls are not counted: 3 accepted calls.
        Assert.Equal(3, await CallsAsync(org));
    }

    [Fact]
    public async Task MediumCallsPassOncePerSecond()
    {
        var (_, s) = await OrgAsync();
        AlignToMinute();
        await (await s.PutAsync("/api/v1/ecAdminActivateStatus/activate", null)).AssertOk();
        await AssertRateLimited(await s.PutAsync("/api/v1/ecAdminActivateStatus/activate", null), "1/SECOND", 1);
        // A GET is light: its own window.
        await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        await (await s.PutAsync("/api/v1/ecAdminActivateStatus/activate", null)).AssertOk();
    }

    [Fact]
    public async Task HeavyCallsPassOncePerMinuteWhateverTheHandlerAnswers()
    {
        var (_, s) = await OrgAsync();
        AlignToMinute();
        await (await s.DeleteAsync("/api/v1/apiKeys/999999999")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertRateLimited(await s.DeleteAsync("/api/v1/apiKeys/999999999"), "1/MINUTE", 60);
        app.Clock.Advance(TimeSpan.FromSeconds(45));
        await AssertRateLimited(await s.DeleteAsync("/api/v1/apiKeys/999999999"), "1/MINUTE", 15);
        app.Clock.Advance(TimeSpan.FromSeconds(15));
        await (await s.DeleteAsync("/api/v1/apiKeys/999999999")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task TheHourlyLimitHoldsAcrossSecondsAndTellsTheWaitToTheHourEnd()
    {
        var now = app.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        app.Clock.Advance(TimeSpan.FromMilliseconds(3_600_000 - now % 3_600_000)); // top of the hour
        var (org, s) = await OrgAsync(new { rates = new { light = new { perSecond = 100, perHour = 5 } } });
        for (var i = 0; i < 5; i++)
        {
            await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
            app.Clock.Advance(TimeSpan.FromSeconds(10));
        }
        await AssertRateLimited(await s.GetAsync("/api/v1/apiKeys"), "5/HOUR", 3600 - 50);
        app.Clock.Advance(TimeSpan.FromSeconds(3600 - 50));
        // The session idled out meanwhile; a new one meets a fresh hour.
        using var next = await app.SessionAsync(org);
        await (await next.GetAsync("/api/v1/apiKeys")).AssertOk();
    }

    [Fact]
    public async Task ARateLimitedRequestDoesNotExtendTheSession()
    {
        var now = app.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        app.Clock.Advance(TimeSpan.FromMilliseconds(3_600_000 - now % 3_600_000)); // top of the hour
        var (_, s) = await OrgAsync(new { rates = new { light = new { perSecond = 100, perHour = 1 } } });
        await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        app.Clock.Advance(TimeSpan.FromMinutes(20));
        await AssertRateLimited(await s.GetAsync("/api/v1/apiKeys"), "1/HOUR", 40 * 60);
        // 30 minutes after the last accepted request, still inside the hour: had the 429 counted, this would be another 429.
        app.Clock.Advance(TimeSpan.FromMinutes(10));
        await (await s.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task TheCallAfterTheThresholdIsRefusedAndDisablesTheKeyUntilTheProviderEnablesIt()
    {
        var (org, s) = await OrgAsync(Raised(calls: 5));
        for (var i = 1; i <= 5; i++) await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await s.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");

        var view = await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}")).AssertOk();
        var key = view.GetProperty("keys")[0];
        Assert.Equal("DISABLED", key.GetProperty("status").GetString());
        Assert.Equal("THRESHOLD_EXCEEDED", key.GetProperty("disabledReason").GetString());
        await (await s.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org))).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        var audit = await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).Content.ReadAsStringAsync();
        Assert.Contains("\"action\":\"key.disable\"", audit);
        Assert.Contains("\"actor\":\"keygate\"", audit);

        // The provider's enable starts a fresh window, so the key is not disabled again at the next call.
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/enable", null)).AssertOk();
        for (var i = 1; i <= 5; i++) await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await s.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        audit = await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).Content.ReadAsStringAsync();
        Assert.Contains("\"action\":\"usage.window_reset\"", audit);
    }

    [Fact]
    public async Task TheThresholdWindowIsAlignedToTheEpochAndANewWindowStartsFromZero()
    {
        var (org, s) = await OrgAsync(Raised(calls: 3, windowSeconds: 60));
        AlignToMinute();
        for (var i = 0; i < 3; i++) await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        app.Clock.Advance(TimeSpan.FromSeconds(60));
        for (var i = 0; i < 3; i++) await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        var usage = await (await s.GetAsync("/api/v1/usage")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        Assert.Equal(4, await CallsAsync(org));
    }

    [Fact]
    public async Task TheWarningFiresExactlyOncePerWindow()
    {
        var (org, s) = await OrgAsync(Raised(calls: 10, windowSeconds: 60));
        AlignToMinute();
        async Task<int> WarningsAsync() =>
            (await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).AssertOk())
                .GetProperty("items").EnumerateArray().Count(e => e.GetProperty("action").GetString() == "usage.warning");

        for (var i = 1; i <= 7; i++) await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal(0, await WarningsAsync());
        await (await s.GetAsync("/api/v1/apiKeys")).AssertOk(); // the 8th call is 80 %
        Assert.Equal(1, await WarningsAsync());
        for (var i = 9; i <= 10; i++) await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal(1, await WarningsAsync());

        app.Clock.Advance(TimeSpan.FromSeconds(60));
        for (var i = 1; i <= 10; i++) await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        Assert.Equal(2, await WarningsAsync());
    }

    [Fact]
    public async Task AHugeThresholdNeverWarnsEarly()
    {
        var (org, s) = await OrgAsync(Raised(calls: long.MaxValue));
        for (var i = 0; i < 3; i++) await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        var audit = await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("usage.warning", audit);
    }

    [Fact]
    public async Task ParallelCallsDisableTheKeyAtExactlyTheThreshold()
    {
        var (org, s) = await OrgAsync(Raised(calls: 60));
        // A second session of the same org shares the same counters.
        using var s2 = await app.SessionAsync(org);
        var calls = Enumerable.Range(0, 120).Select(i => (i % 2 == 0 ? s : s2).GetAsync("/api/v1/apiKeys"));
        var answers = await Task.WhenAll(calls);
        Assert.Equal(60, answers.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.All(answers.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        var view = await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}")).AssertOk();
        Assert.Equal("THRESHOLD_EXCEEDED", view.GetProperty("keys")[0].GetProperty("disabledReason").GetString());
    }

    [Fact]
    public async Task UsageShowsTheWindowsToTheOrgAndToItsProvider()
    {
        var (org, s) = await OrgAsync(Raised(calls: 1000, windowSeconds: 3600, warnAtPercent: 75));
        await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
        var u = await (await s.GetAsync("/api/v1/usage")).AssertOk();
        Assert.Equal(2, u.GetProperty("calls").GetInt64()); // the usage call counts too
        Assert.Equal(1000, u.GetProperty("threshold").GetInt64());
        Assert.Equal(998, u.GetProperty("remaining").GetInt64());
        Assert.Equal(3600, u.GetProperty("windowSeconds").GetInt64());
        Assert.Equal(75, u.GetProperty("warnAtPercent").GetInt32());
        Assert.Equal(0, u.GetProperty("windowStart").GetInt64() % 3600);
        var light = u.GetProperty("rates").GetProperty("light");
        Assert.Equal(100_000, light.GetProperty("perSecond").GetInt32());
        Assert.True(light.GetProperty("usedThisHour").GetInt64() >= 2);
        Assert.Equal(100, u.GetProperty("sandbox").GetProperty("dailyQuota").GetInt32());
        Assert.True(u.GetProperty("rates").GetProperty("heavy").TryGetProperty("usedThisMinute", out _));

        var p = await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/usage")).AssertOk();
        Assert.Equal(2, p.GetProperty("calls").GetInt64());
        var sp = await (await app.Provider().PostAsync("/provider/v1/serviceProviders", Scenario.Json(new { name = "Other" }))).AssertOk(HttpStatusCode.Created);
        await (await app.Provider(sp.GetProperty("token").GetString()).GetAsync($"/provider/v1/organizations/{org.Id}/usage"))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task LoginLogoutAndTheProviderApiAreNeverMetered()
    {
        var (org, s) = await OrgAsync(Raised(calls: 2));
        for (var i = 0; i < 5; i++) await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}")).AssertOk();
        using var other = await app.SessionAsync(org);
        await (await other.DeleteAsync("/api/v1/auth")).AssertOk(HttpStatusCode.NoContent);
        Assert.Equal(0, await CallsAsync(org));
    }
}

/// <summary>A restart in the middle of a window keeps the count (durable usage).</summary>
public sealed class MeteringRestartTests
{
    [Fact]
    public async Task ARestartInTheMiddleOfAWindowKeepsTheCount()
    {
        var first = new KeygateApp();
        var org = await first.CreateOrgAsync();
        await (await first.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/limits",
            Scenario.Json(new { callThreshold = new { calls = 10, windowSeconds = 86400 } }))).AssertOk();
        string sessionId;
        using (var s = await first.SessionAsync(org))
        {
            for (var i = 0; i < 6; i++) await (await s.GetAsync("/api/v1/apiKeys")).AssertOk();
            sessionId = s.DefaultRequestHeaders.GetValues("Cookie").Single()["JSESSIONID=".Length..];
        }
        await using var second = KeygateApp.Reopen(first);
        await first.DisposeAsync(); // a graceful stop writes the counters

        using var again = second.SessionClient(sessionId);
        var usage = await (await second.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/usage")).AssertOk();
        Assert.Equal(6, usage.GetProperty("calls").GetInt64());
        for (var i = 7; i <= 10; i++) await (await again.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await again.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
    }
}
