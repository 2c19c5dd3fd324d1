using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B limits of an organization (errors as contract C).</summary>
public sealed class ProviderLimitsTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    [Fact]
    public async Task PuttingPartialLimitsKeepsTheOtherValues()
    {
        var org = await app.CreateOrgAsync(defaultLimits: true);
        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}/limits";

        var l1 = await (await op.PutAsync(url, Json(new { rates = new { heavy = new { perMinute = 3 } } }))).AssertOk();
        AssertProperties(l1, "callThreshold", "rates", "sandboxDailyQuota");
        Assert.Equal(3, l1.GetProperty("rates").GetProperty("heavy").GetProperty("perMinute").GetInt32());
        Assert.Equal(4, l1.GetProperty("rates").GetProperty("heavy").GetProperty("perHour").GetInt32());
        Assert.Equal(2, l1.GetProperty("rates").GetProperty("light").GetProperty("perSecond").GetInt32());
        Assert.Equal(100000, l1.GetProperty("callThreshold").GetProperty("calls").GetInt64());
        Assert.Equal(100, l1.GetProperty("sandboxDailyQuota").GetInt32());

        var l2 = await (await op.PutAsync(url, Json(new { callThreshold = new { calls = 500 } }))).AssertOk();
        Assert.Equal(500, l2.GetProperty("callThreshold").GetProperty("calls").GetInt64());
        Assert.Equal(86400, l2.GetProperty("callThreshold").GetProperty("windowSeconds").GetInt64());
        Assert.Equal(80, l2.GetProperty("callThreshold").GetProperty("warnAtPercent").GetInt32());
        Assert.Equal(3, l2.GetProperty("rates").GetProperty("heavy").GetProperty("perMinute").GetInt32());

        var l3 = await (await op.PutAsync(url, Json(new { sandboxDailyQuota = 7, rates = new { medium = new { perHour = 250 } } }))).AssertOk();
        Assert.Equal(7, l3.GetProperty("sandboxDailyQuota").GetInt32());
        Assert.Equal(250, l3.GetProperty("rates").GetProperty("medium").GetProperty("perHour").GetInt32());
        Assert.Equal(1, l3.GetProperty("rates").GetProperty("medium").GetProperty("perSecond").GetInt32());
        Assert.Equal(500, l3.GetProperty("callThreshold").GetProperty("calls").GetInt64());
        Assert.Equal(3, l3.GetProperty("rates").GetProperty("heavy").GetProperty("perMinute").GetInt32());

        var empty = await (await op.PutAsync(url, RawJson("{}"))).AssertOk();
        Assert.Equal(l3.GetRawText(), empty.GetRawText());
        Assert.Equal(l3.GetRawText(), (await GetOrgAsync(org.Id)).GetProperty("limits").GetRawText());
    }

    [Fact]
    public async Task PuttingZeroOrNegativeLimitsIs400WithErrorsAndChangesNothing()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}/limits";
        var before = (await GetOrgAsync(org.Id)).GetProperty("limits").GetRawText();

        await AssertInvalid(await op.PutAsync(url, Json(new { callThreshold = new { calls = 0 } })), "callThreshold.calls");
        await AssertInvalid(await op.PutAsync(url, Json(new { callThreshold = new { windowSeconds = -60 } })), "callThreshold.windowSeconds");
        await AssertInvalid(await op.PutAsync(url, Json(new { rates = new { light = new { perSecond = -1 }, heavy = new { perHour = 0 } }, sandboxDailyQuota = 5 })),
            "rates.light.perSecond", "rates.heavy.perHour");
        await AssertInvalid(await op.PutAsync(url, Json(new { rates = new { medium = new { perSecond = 0 } } })), "rates.medium.perSecond");
        await AssertInvalid(await op.PutAsync(url, Json(new { sandboxDailyQuota = -1 })), "sandboxDailyQuota");
        await AssertInvalid(await op.PutAsync(url, Json(new { rates = new { light = new { perSecond = "fast" } } })));
        Assert.Equal(before, (await GetOrgAsync(org.Id)).GetProperty("limits").GetRawText());
    }

    [Fact]
    public async Task PuttingLimitsWithAnUnknownNestedFieldIs400()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}/limits";
        var before = (await GetOrgAsync(org.Id)).GetProperty("limits").GetRawText();
        await AssertInvalid(await op.PutAsync(url, Json(new { rates = new { light = new { perMinute = 5 } } })));
        await AssertInvalid(await op.PutAsync(url, Json(new { callThreshold = new { calls = 5, bogus = 1 } })));
        await AssertInvalid(await op.PutAsync(url, Json(new { rates = new { extreme = new { perSecond = 5 } } })));
        await AssertInvalid(await op.PutAsync(url, Json(new { sandboxDailyQuota = 5, dailyQuota = 5 })));
        Assert.Equal(before, (await GetOrgAsync(org.Id)).GetProperty("limits").GetRawText());
    }
}
