using System.Net;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B service-provider isolation: a service provider sees and changes only its own organizations.</summary>
public sealed class ProviderIsolationTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    [Fact]
    public async Task ServiceProviderCreatingAnOrgGetsItsOwnServiceProviderId()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var created = await CreateNamedOrgAsync("Org " + Guid.NewGuid().ToString("N")[..8], c);
        Assert.Equal(sp.Id, created.GetProperty("serviceProviderId").GetInt64());

        var explicitOwn = await (await c.PostAsync("/provider/v1/organizations", Json(new
        {
            name = "Explicit", serviceProviderId = sp.Id, admin = new { username = Unique(), password = Password },
        }))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(sp.Id, explicitOwn.GetProperty("serviceProviderId").GetInt64());

        var viaOperator = await GetOrgAsync(created.GetProperty("id").GetInt64());
        Assert.Equal(sp.Id, viaOperator.GetProperty("serviceProviderId").GetInt64());
    }

    [Fact]
    public async Task ServiceProviderListsOnlyItsOwnOrgs()
    {
        var a = await CreateServiceProviderAsync();
        var b = await CreateServiceProviderAsync();
        using var ca = app.Provider(a.Token);
        using var cb = app.Provider(b.Token);
        var a1 = await app.CreateOrgAsync(provider: ca);
        var a2 = await app.CreateOrgAsync(subscribe: false, provider: ca);
        var b1 = await app.CreateOrgAsync(provider: cb);
        var op1 = await app.CreateOrgAsync();

        var listA = (await ListOrgsAsync(ca)).EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToArray();
        Assert.Equal(new[] { a1.Id, a2.Id }, listA);
        var listB = (await ListOrgsAsync(cb)).EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToArray();
        Assert.Equal(new[] { b1.Id }, listB);
        var all = (await ListOrgsAsync()).EnumerateArray().Select(o => o.GetProperty("id").GetInt64()).ToHashSet();
        Assert.Superset(new HashSet<long> { a1.Id, a2.Id, b1.Id, op1.Id }, all);
    }

    [Fact]
    public async Task ServiceProviderGets404ForEveryRouteOnAnotherProvidersOrTheOperatorsOrg()
    {
        var a = await CreateServiceProviderAsync();
        var b = await CreateServiceProviderAsync();
        using var ca = app.Provider(a.Token);
        using var cb = app.Provider(b.Token);
        var ownedByB = await app.CreateOrgAsync(provider: cb);
        var ownedByOperator = await app.CreateOrgAsync();
        var admin = Unique("sneaky");

        foreach (var org in new[] { ownedByB, ownedByOperator })
        {
            var baseUrl = $"/provider/v1/organizations/{org.Id}";
            await AssertProblem(await ca.GetAsync(baseUrl), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.SendAsync(Patch(baseUrl, new { name = "Hijacked" })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.PutAsync(baseUrl + "/subscription", Json(new { enabled = false, expiresAt = (long?)null })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.PutAsync(baseUrl + "/limits", Json(new { sandboxDailyQuota = 1 })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable()), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.PostAsync(baseUrl + "/admins", Json(new { username = admin, password = Password, role = "SUPER_ADMIN" })),
                HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await AssertProblem(await ca.GetAsync(baseUrl + "/audit"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");

            // Nothing changed.
            var view = await GetOrgAsync(org.Id);
            Assert.NotEqual("Hijacked", view.GetProperty("name").GetString());
            Assert.True(view.GetProperty("subscription").GetProperty("enabled").GetBoolean());
            Assert.Equal(100, view.GetProperty("limits").GetProperty("sandboxDailyQuota").GetInt32());
            Assert.Equal("ENABLED", KeyOf(view, org.KeyId).GetProperty("status").GetString());
            Assert.DoesNotContain(await AllAuditAsync(org.Id), e => e.GetProperty("detail").GetString()!.Contains(admin));
        }

        // The admin was never created: the username is still free.
        await CreateNamedOrgAsyncWithAdmin(admin);
    }

    [Fact]
    public async Task ServiceProviderTokenGets403CreatingServiceProviders()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        await AssertProblem(await c.PostAsync("/provider/v1/serviceProviders", Json(new { name = "Rogue" })), HttpStatusCode.Forbidden, "ACCESS_DENIED");
    }

    [Fact]
    public async Task ServiceProviderDisablesThenEnablesItsOwnOrgsKey()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        var org = await app.CreateOrgAsync(provider: c);

        var disabled = await (await c.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("OTHER"))).AssertOk();
        Assert.Equal("DISABLED", disabled.GetProperty("status").GetString());
        Assert.Equal("OTHER", disabled.GetProperty("disabledReason").GetString());
        Assert.Equal(0, disabled.GetProperty("lastModifiedBy").GetProperty("id").GetInt64());
        Assert.Equal(sp.Name, disabled.GetProperty("lastModifiedBy").GetProperty("name").GetString());

        var enabled = await (await c.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null)).AssertOk();
        Assert.Equal("ENABLED", enabled.GetProperty("status").GetString());
        Assert.True(enabled.GetProperty("enabled").GetBoolean());
        Assert.Equal(sp.Name, enabled.GetProperty("lastModifiedBy").GetProperty("name").GetString());
        Assert.Equal("ENABLED", KeyOf(await GetOrgAsync(org.Id, c), org.KeyId).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ServiceProviderCannotLiftTheOperatorsDisableButTheOperatorCanLiftAServiceProviders()
    {
        var sp = await CreateServiceProviderAsync();
        using var c = app.Provider(sp.Token);
        using var op = app.Provider();
        var org = await app.CreateOrgAsync(provider: c);

        await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable())).AssertOk();
        await AssertProblem(await c.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null), HttpStatusCode.Forbidden, "ACCESS_DENIED");
        var key = KeyOf(await GetOrgAsync(org.Id), org.KeyId);
        Assert.Equal("DISABLED", key.GetProperty("status").GetString());
        Assert.Equal("TERMS_VIOLATION", key.GetProperty("disabledReason").GetString());
        var key2 = await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org));
        await key2.AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");

        // The operator lifts its own; then the provider disables and the operator lifts that too.
        await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null)).AssertOk();
        await (await c.PostAsync(KeyUrl(org.Id, org.KeyId, "disable"), Disable("OTHER"))).AssertOk();
        var lifted = await (await op.PostAsync(KeyUrl(org.Id, org.KeyId, "enable"), null)).AssertOk();
        Assert.Equal("ENABLED", lifted.GetProperty("status").GetString());
        Assert.Equal(OperatorName, lifted.GetProperty("lastModifiedBy").GetProperty("name").GetString());
        await (await app.LoginAsync(org.Username, org.Password, await app.KeyValueAsync(org))).AssertOk();
    }
}
