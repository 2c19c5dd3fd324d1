using System.Text.Json;

namespace Keygate.Tests;

/// <summary>Contract B audit log: paging, cursors and item fields (errors as contract C).</summary>
public sealed class ProviderAuditTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    [Fact]
    public async Task AuditPagesOldestFirstWithACursorUntilNextIsNull()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        for (var i = 0; i < 3; i++)
        {
            app.Clock.Advance(TimeSpan.FromSeconds(1));
            await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("OTHER", $"round {i}"))).AssertOk();
            app.Clock.Advance(TimeSpan.FromSeconds(1));
            await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null)).AssertOk();
        }
        var all = await AllAuditAsync(org.Id);
        Assert.True(all.Length > 5, $"expected more than 5 events, got {all.Length}");

        var first = await (await op.GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=2")).AssertOk();
        AssertProperties(first, "items", "next");
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.String, first.GetProperty("next").ValueKind);

        var seen = new List<long>();
        var page = first;
        var pages = 1;
        while (true)
        {
            var items = page.GetProperty("items").EnumerateArray().ToArray();
            Assert.InRange(items.Length, 1, 2);
            seen.AddRange(items.Select(x => x.GetProperty("id").GetInt64()));
            if (page.GetProperty("next").ValueKind == JsonValueKind.Null) break;
            Assert.Equal(2, items.Length);
            var next = page.GetProperty("next").GetString()!;
            page = await (await op.GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=2&after={Uri.EscapeDataString(next)}")).AssertOk();
            Assert.True(++pages <= 100, "paging does not end");
        }
        Assert.Equal(all.Select(x => x.GetProperty("id").GetInt64()), seen);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(seen.Order(), seen);
        Assert.Equal((all.Length + 1) / 2, pages);

        var times = all.Select(x => x.GetProperty("time").GetInt64()).ToArray();
        Assert.Equal(times.Order(), times);
        var disables = all.Where(x => x.GetProperty("action").GetString() == "key.disable").ToArray();
        Assert.Equal(3, disables.Length);
        Assert.Equal(3, all.Count(x => x.GetProperty("action").GetString() == "key.enable"));
    }

    [Fact]
    public async Task AuditWithInvalidLimitOrCursorIs400()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        var url = $"/provider/v1/organizations/{org.Id}/audit";
        await AssertInvalid(await op.GetAsync(url + "?limit=0"), "limit");
        await AssertInvalid(await op.GetAsync(url + "?limit=101"), "limit");
        await AssertInvalid(await op.GetAsync(url + "?limit=-1"), "limit");
        await AssertInvalid(await op.GetAsync(url + "?limit=ten"), "limit");
        await AssertInvalid(await op.GetAsync(url + "?after=abc"), "after");
        await (await op.GetAsync(url + "?limit=1")).AssertOk();
        await (await op.GetAsync(url + "?limit=100")).AssertOk();
    }

    [Fact]
    public async Task AuditItemsCarryTheContractFieldsWithFakeClockTimes()
    {
        var org = await app.CreateOrgAsync();
        using var op = app.Provider();
        app.Clock.Advance(TimeSpan.FromSeconds(42));
        var disabledAt = app.Clock.GetUtcNow().ToUnixTimeSeconds();
        await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("TERMS_VIOLATION", "audit me"))).AssertOk();

        var all = await AllAuditAsync(org.Id);
        foreach (var item in all)
        {
            AssertProperties(item, "id", "time", "actor", "action", "keyId", "outcome", "clientAddress", "detail");
            Assert.True(item.GetProperty("id").GetInt64() > 0);
            Assert.Equal(JsonValueKind.Number, item.GetProperty("time").ValueKind);
            Assert.False(string.IsNullOrEmpty(item.GetProperty("actor").GetString()));
            Assert.False(string.IsNullOrEmpty(item.GetProperty("action").GetString()));
            Assert.False(string.IsNullOrEmpty(item.GetProperty("outcome").GetString()));
            Assert.Equal(JsonValueKind.String, item.GetProperty("clientAddress").ValueKind);
            Assert.Equal(JsonValueKind.String, item.GetProperty("detail").ValueKind);
            Assert.InRange(item.GetProperty("time").GetInt64(), disabledAt - 42, disabledAt);
        }
        var created = all.First(x => x.GetProperty("action").GetString() == "organization.create");
        Assert.Equal(JsonValueKind.Null, created.GetProperty("keyId").ValueKind);
        Assert.Equal(disabledAt - 42, created.GetProperty("time").GetInt64());
        var disable = Assert.Single(all, x => x.GetProperty("action").GetString() == "key.disable");
        Assert.Equal(disabledAt, disable.GetProperty("time").GetInt64());
        Assert.Equal(org.KeyId, disable.GetProperty("keyId").GetInt64());
        Assert.Equal("SUCCESS", disable.GetProperty("outcome").GetString());
        Assert.Contains(OperatorName, disable.GetProperty("actor").GetString());
        Assert.Contains("TERMS_VIOLATION", disable.GetProperty("detail").GetString());
    }
}
