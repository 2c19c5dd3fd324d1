using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Webhooks (contract B) end to end: provider API settings, the outbox, fan-out, signed delivery to a real
/// receiver on loopback, retries on the fake clock, restarts, and the address guard. Each test owns its host.
/// </summary>
public sealed class WebhookTests
{
    private const string OperatorSecret = "operator-webhook-secret-0123456789";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static KeygateApp NewApp(WebhookReceiver? operatorReceiver = null, bool allowPrivate = true) =>
        KeygateApp.With(Settings(operatorReceiver, allowPrivate));

    private static Dictionary<string, string?> Settings(WebhookReceiver? operatorReceiver = null, bool allowPrivate = true)
    {
        var s = new Dictionary<string, string?> { ["Keygate:Webhooks:AllowPrivateNetworks"] = allowPrivate ? "true" : "false" };
        if (operatorReceiver is not null)
        {
            s["Keygate:Webhooks:OperatorUrls:0"] = operatorReceiver.Url("/operator");
            s["Keygate:Webhooks:OperatorSecret"] = OperatorSecret;
        }
        return s;
    }

    // ---------------------------------------------------------------- delivery

    [Fact]
    public async Task DisableAndEnableReachTheOrgItsServiceProviderAndTheOperatorSigned()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var app = NewApp(receiver);
        var sp = await (await app.Provider().PostAsync("/provider/v1/serviceProviders", Json(new { name = "Reseller" }))).AssertOk(HttpStatusCode.Created);
        var spId = sp.GetProperty("id").GetInt64();
        using var reseller = app.Provider(sp.GetProperty("token").GetString());
        var org = await app.CreateOrgAsync(provider: reseller);
        var orgSecret = await SetWebhooksAsync(reseller, $"/provider/v1/organizations/{org.Id}/webhooks", [receiver.Url("/org")]);
        var spSecret = await SetWebhooksAsync(reseller, $"/provider/v1/serviceProviders/{spId}/webhooks", [receiver.Url("/sp")]);
        var now = app.Clock.GetUtcNow().ToUnixTimeSeconds();

        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Json(new { reason = "TERMS_VIOLATION", note = "abuse" }))).AssertOk();

        var disabled = await ReceivedAsync(receiver, "key.disabled", 3);
        foreach (var (path, secret) in new[] { ("/org", orgSecret), ("/sp", spSecret), ("/operator", OperatorSecret) })
        {
            var hook = Assert.Single(disabled, r => r.Path == path);
            Assert.True(hook.IsSignedWith(secret), $"bad signature at {path}");
            Assert.Equal(now.ToString(), hook.Timestamp);
            Assert.Equal("application/json", hook.ContentType);
            var body = hook.Json;
            Assert.Equal(["id", "type", "orgId", "occurredAt", "data"], body.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal("key.disabled", body.GetProperty("type").GetString());
            Assert.Equal(org.Id, body.GetProperty("orgId").GetInt64());
            Assert.Equal(now, body.GetProperty("occurredAt").GetInt64());
            Assert.Equal(org.KeyId, body.GetProperty("data").GetProperty("keyId").GetInt64());
            Assert.Equal("TERMS_VIOLATION", body.GetProperty("data").GetProperty("reason").GetString());
        }
        Assert.Single(disabled.Select(r => r.EventId).Distinct()); // one event, three receivers
        Assert.False(Assert.Single(disabled, r => r.Path == "/org").IsSignedWith(spSecret)); // each signed with its own secret

        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/enable", null)).AssertOk();
        var enabled = await ReceivedAsync(receiver, "key.enabled", 3);
        Assert.Equal(["/operator", "/org", "/sp"], enabled.Select(r => r.Path).Order().ToArray());
        Assert.All(enabled, r => Assert.Equal(org.KeyId, r.Json.GetProperty("data").GetProperty("keyId").GetInt64()));
        Assert.True(Assert.Single(enabled, r => r.Path == "/org").IsSignedWith(orgSecret));
        AssertNoBackgroundFailures(app);
    }

    [Fact]
    public async Task AReceiverThatFailsTwiceGetsTheEventOnTheThirdAttempt()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 2);
        await using var app = NewApp();
        var org = await app.CreateOrgAsync();
        var secret = await SetWebhooksAsync(app.Provider(), $"/provider/v1/organizations/{org.Id}/webhooks", [receiver.Url()]);

        await DisableAsync(app, org);
        await UntilAsync(async () => (await DeliveriesAsync(app, org.Id)).Any(d => d.Attempts == 1), "the first attempt");
        var first = Assert.Single(await DeliveriesAsync(app, org.Id));
        Assert.Equal(500, first.LastStatus);
        Assert.Null(first.DeliveredAtMs);
        app.Clock.Advance(TimeSpan.FromSeconds(1)); // the first backoff
        await UntilAsync(async () => (await DeliveriesAsync(app, org.Id)).Any(d => d.Attempts == 2), "the second attempt");
        app.Clock.Advance(TimeSpan.FromSeconds(2)); // the second backoff
        await UntilAsync(async () => (await DeliveriesAsync(app, org.Id)).Any(d => d.DeliveredAtMs is not null), "the third attempt");

        var d = Assert.Single(await DeliveriesAsync(app, org.Id));
        Assert.Equal(3, d.Attempts);
        Assert.Equal(200, d.LastStatus);
        Assert.Equal([500, 500, 200], receiver.Requests.Select(r => r.AnsweredWith).ToArray());
        Assert.Single(receiver.Requests.Select(r => r.EventId).Distinct());
        Assert.All(receiver.Requests, r => Assert.True(r.IsSignedWith(secret)));
        AssertNoBackgroundFailures(app);
    }

    [Fact]
    public async Task ADeliveryGivesUpAfterTwelveAttemptsAndTheOrgAuditSaysSo()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: int.MaxValue);
        await using var app = NewApp();
        var org = await app.CreateOrgAsync();
        await SetWebhooksAsync(app.Provider(), $"/provider/v1/organizations/{org.Id}/webhooks", [receiver.Url()]);

        await DisableAsync(app, org);
        for (var n = 1; n <= 12; n++)
        {
            await UntilAsync(async () => (await DeliveriesAsync(app, org.Id)).Any(d => d.Attempts == n), $"attempt {n}");
            app.Clock.Advance(TimeSpan.FromMinutes(11)); // past the longest backoff (10 min)
        }

        var gaveUp = Assert.Single(await DeliveriesAsync(app, org.Id));
        Assert.True(gaveUp.GaveUp);
        Assert.Null(gaveUp.DeliveredAtMs);
        Assert.Equal("HTTP 500", gaveUp.LastError);
        var audit = await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).AssertOk();
        var item = Assert.Single(audit.GetProperty("items").EnumerateArray(), i => i.GetProperty("action").GetString() == "webhook.gave_up");
        Assert.DoesNotContain(receiver.BaseUrl, item.GetRawText());
        Assert.Equal(12, receiver.Requests.Count);
    }

    [Fact]
    public async Task EventsWhoseDeliveriesEndedArePrunedAfterTheRetentionAndTheOthersKept()
    {
        await using var good = await WebhookReceiver.StartAsync();
        await using var failing = await WebhookReceiver.StartAsync(failFirst: int.MaxValue);
        await using var app = NewApp();
        var delivered = await app.CreateOrgAsync();
        var pending = await app.CreateOrgAsync();
        await SetWebhooksAsync(app.Provider(), $"/provider/v1/organizations/{delivered.Id}/webhooks", [good.Url()]);
        await SetWebhooksAsync(app.Provider(), $"/provider/v1/organizations/{pending.Id}/webhooks", [failing.Url()]);
        await DisableAsync(app, delivered);
        await DisableAsync(app, pending);
        await UntilAsync(async () => (await DeliveriesAsync(app, delivered.Id)).Any(d => d.DeliveredAtMs is not null), "the delivery");
        await UntilAsync(async () => (await DeliveriesAsync(app, pending.Id)).Any(d => d.Attempts >= 1), "the first failed attempt");

        app.Clock.Advance(TimeSpan.FromDays(31)); // past Keygate:Webhooks:RetentionDays (30)
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{delivered.Id}/apiKeys/{delivered.KeyId}/enable", null)).AssertOk();
        await UntilAsync(async () => await EventCountAsync(app, delivered.Id, WebhookOutbox.KeyDisabled) == 0, "the old event to be pruned");

        Assert.DoesNotContain(await DeliveriesAsync(app, delivered.Id), d => d.DeliveredAtMs < app.NowMs - TimeSpan.FromDays(30).TotalMilliseconds);
        Assert.Equal(1, await EventCountAsync(app, delivered.Id, WebhookOutbox.KeyEnabled)); // young: kept
        Assert.Equal(1, await EventCountAsync(app, pending.Id, WebhookOutbox.KeyDisabled)); // still being tried: kept
        Assert.Single(await DeliveriesAsync(app, pending.Id), d => !d.GaveUp && d.DeliveredAtMs is null);
        AssertNoBackgroundFailures(app);
    }

    [Fact]
    public async Task ARetentionUnderOneDayIsRefusedAtStart()
    {
        await using var app = KeygateApp.With(new() { ["Keygate:Webhooks:RetentionDays"] = "0" });
        var e = Assert.ThrowsAny<Exception>(() => app.Services);
        Assert.Contains("RetentionDays must be at least 1", e.ToString());
    }

    [Fact]
    public async Task AnEventQueuedBeforeARestartIsDeliveredAfterIt()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: int.MaxValue);
        await using var first = NewApp();
        var org = await first.CreateOrgAsync();
        var secret = await SetWebhooksAsync(first.Provider(), $"/provider/v1/organizations/{org.Id}/webhooks", [receiver.Url()]);
        await DisableAsync(first, org);
        await UntilAsync(async () => (await DeliveriesAsync(first, org.Id)).Any(d => d.Attempts == 1), "the failed attempt before the restart");

        await using var second = KeygateApp.Reopen(first, Settings());
        await first.DisposeAsync();
        receiver.FailNext(0);
        _ = second.Services; // starts the host, and with it the dispatcher
        second.Clock.Advance(TimeSpan.FromMinutes(2));

        // The receiver sees the request before the dispatcher records the answer, so wait for the record.
        await UntilAsync(async () => (await DeliveriesAsync(second, org.Id)).Any(d => d.DeliveredAtMs is not null), "the delivery after the restart");
        Assert.Equal(2, Assert.Single(await DeliveriesAsync(second, org.Id)).Attempts);
        var delivered = Assert.Single(receiver.Delivered());
        Assert.True(delivered.IsSignedWith(secret));
        Assert.Equal("key.disabled", delivered.Type);
        Assert.Equal(receiver.Requests.First().EventId, delivered.EventId);
    }

    // ---------------------------------------------------------------- the events

    [Fact]
    public async Task UsageWarningIsSentOnceWhenCallsCrossTheWarningShareOfTheThreshold()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var app = NewApp();
        var org = await app.CreateOrgAsync();
        await (await app.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/limits", Json(new
        {
            callThreshold = new { calls = 10, windowSeconds = 86400, warnAtPercent = 80 },
            rates = new { light = new { perSecond = 100_000, perHour = 100_000_000 } },
        }))).AssertOk();
        var secret = await SetWebhooksAsync(app.Provider(), $"/provider/v1/organizations/{org.Id}/webhooks", [receiver.Url()]);
        using var session = await app.SessionAsync(org);

        for (var i = 0; i < 10; i++) await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();

        var warning = Assert.Single(await ReceivedAsync(receiver, "usage.warning", 1));
        Assert.True(warning.IsSignedWith(secret));
        var data = warning.Json.GetProperty("data");
        Assert.Equal(8, data.GetProperty("calls").GetInt64());
        Assert.Equal(10, data.GetProperty("threshold").GetInt64());
        Assert.Equal(80, data.GetProperty("warnAtPercent").GetInt32());
        // Every event of the org has been delivered by now: one warning in the window, and nothing else.
        await UntilAsync(async () => (await DeliveriesAsync(app, org.Id)).All(d => d.DeliveredAtMs is not null), "all deliveries");
        Assert.Equal(1, await EventCountAsync(app, org.Id, "usage.warning"));
        Assert.Single(receiver.Requests);
        AssertNoBackgroundFailures(app);
    }

    [Fact]
    public async Task SubscriptionExpiredIsSentOnceAfterExpiresAtPassesAndAgainAfterARenewal()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var app = NewApp();
        var expiresAt = app.Clock.GetUtcNow().ToUnixTimeSeconds() + 3600;
        var org = await app.CreateOrgAsync(expiresAt: expiresAt);
        var secret = await SetWebhooksAsync(app.Provider(), $"/provider/v1/organizations/{org.Id}/webhooks", [receiver.Url()]);
        var stateVersion = await StateVersionAsync(app, org.Id);

        app.Clock.Advance(TimeSpan.FromSeconds(3600));
        var expired = Assert.Single(await ReceivedAsync(receiver, "subscription.expired", 1));
        Assert.True(expired.IsSignedWith(secret));
        Assert.Equal(org.Id, expired.Json.GetProperty("orgId").GetInt64());
        Assert.Equal(expiresAt, expired.Json.GetProperty("data").GetProperty("expiresAt").GetInt64());
        Assert.Equal(stateVersion, await StateVersionAsync(app, org.Id)); // a notice is not a change of the org
        var audit = await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).AssertOk();
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), i => i.GetProperty("action").GetString() == "subscription.expired");

        var renewedTo = app.Clock.GetUtcNow().ToUnixTimeSeconds() + 60;
        await (await app.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/subscription",
            Json(new { enabled = true, expiresAt = renewedTo }))).AssertOk();
        app.Clock.Advance(TimeSpan.FromSeconds(61));
        var both = await ReceivedAsync(receiver, "subscription.expired", 2);
        Assert.Equal([expiresAt, renewedTo], both.Select(r => r.Json.GetProperty("data").GetProperty("expiresAt").GetInt64()).Order().ToArray());
        Assert.Equal(2, await EventCountAsync(app, org.Id, "subscription.expired"));
        AssertNoBackgroundFailures(app);
    }

    [Fact]
    public async Task SubscriptionExpiringIsSentFourteenDaysAndOneDayBeforeAndSuspensionIsAnnounced()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var app = NewApp();
        const long day = 86_400;
        var expiresAt = app.Clock.GetUtcNow().ToUnixTimeSeconds() + 20 * day;
        var org = await app.CreateOrgAsync(expiresAt: expiresAt);
        var secret = await SetWebhooksAsync(app.Provider(), $"/provider/v1/organizations/{org.Id}/webhooks", [receiver.Url()]);

        app.Clock.Advance(TimeSpan.FromDays(6));
        var first = Assert.Single(await ReceivedAsync(receiver, "subscription.expiring", 1));
        Assert.True(first.IsSignedWith(secret));
        Assert.Equal(expiresAt, first.Json.GetProperty("data").GetProperty("expiresAt").GetInt64());
        Assert.Equal(14, first.Json.GetProperty("data").GetProperty("daysBefore").GetInt32());
        app.Clock.Advance(TimeSpan.FromDays(13));
        var both = await ReceivedAsync(receiver, "subscription.expiring", 2);
        Assert.Equal([1, 14], both.Select(r => r.Json.GetProperty("data").GetProperty("daysBefore").GetInt32()).Order().ToArray());
        Assert.Equal(2, await EventCountAsync(app, org.Id, "subscription.expiring"));

        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/suspend", Json(new { note = "unpaid" }))).AssertOk();
        var suspended = Assert.Single(await ReceivedAsync(receiver, "org.suspended", 1));
        Assert.Equal("unpaid", suspended.Json.GetProperty("data").GetProperty("note").GetString());
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/resume", null)).AssertOk();
        Assert.Single(await ReceivedAsync(receiver, "org.resumed", 1));
        AssertNoBackgroundFailures(app);
    }

    // ---------------------------------------------------------------- the address guard

    [Fact]
    public async Task PrivateAddressesAreRefusedAfterResolutionUnlessAllowed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var app = NewApp(allowPrivate: false);
        var org = await app.CreateOrgAsync();
        // An address literal and a name that resolves to loopback: both are judged after resolution (https, as
        // required without private networks; the connection is refused before any TLS).
        await SetWebhooksAsync(app.Provider(), $"/provider/v1/organizations/{org.Id}/webhooks",
            [$"https://127.0.0.1:{receiver.Port}/hook", $"https://localhost:{receiver.Port}/hook"]);

        await DisableAsync(app, org);
        await UntilAsync(async () => (await DeliveriesAsync(app, org.Id)) is { Count: 2 } ds && ds.All(d => d.Attempts >= 1), "both attempts");

        Assert.All(await DeliveriesAsync(app, org.Id), d =>
        {
            Assert.Null(d.DeliveredAtMs);
            Assert.Null(d.LastStatus);
            Assert.Equal("refused: not a public address", d.LastError);
        });
        Assert.Empty(receiver.Requests);
    }

    // ---------------------------------------------------------------- PUT webhooks

    [Fact]
    public async Task PutWebhooksRefusesBadUrlsAndSecretsWith400AndFieldErrors()
    {
        await using var app = NewApp();
        var org = await app.CreateOrgAsync(subscribe: false);
        var path = $"/provider/v1/organizations/{org.Id}/webhooks";
        using var provider = app.Provider();

        async Task<JsonElement> Bad(object body) =>
            await (await provider.PutAsync(path, Json(body))).AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");

        var errors = (await Bad(new { urls = new[] { "ftp://example.com/hook", "/relative", "https://ok.example/hook", "https://user:pw@example.com/" } }))
            .GetProperty("errors");
        Assert.Equal(["urls[0]", "urls[1]", "urls[3]"], errors.EnumerateObject().Select(p => p.Name).Order().ToArray());
        Assert.True((await Bad(new { urls = new[] { "https://example.com/" + new string('a', 2000) } })).GetProperty("errors").TryGetProperty("urls[0]", out _));
        var eleven = Enumerable.Range(0, 11).Select(i => $"https://h{i}.example/").ToArray();
        Assert.True((await Bad(new { urls = eleven })).GetProperty("errors").TryGetProperty("urls", out _));
        Assert.True((await Bad(new { urls = new[] { "https://example.com/" }, secret = "too-short" })).GetProperty("errors").TryGetProperty("secret", out _));
        await Bad(new { urls = new[] { "https://example.com/" }, extra = 1 });
        await Bad(new { secret = "a-long-enough-secret-value" });
        await (await provider.PutAsync(path, RawJson("not json"))).AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");

        var ok = await (await provider.PutAsync(path,
            Json(new { urls = new[] { "http://receiver.example:8080/hook" }, secret = "a-long-enough-secret-value" }))).AssertOk();
        Assert.Equal(["http://receiver.example:8080/hook"], ok.GetProperty("urls").EnumerateArray().Select(u => u.GetString()).ToArray());
        Assert.Equal("a-long-enough-secret-value", ok.GetProperty("secret").GetString());
        using var anonymous = app.Client();
        await (await anonymous.PutAsync(path, Json(new { urls = Array.Empty<string>() }))).AssertError(HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    /// <summary>Events are signed, not encrypted: receivers are https only, unless private networks are allowed (tests, closed networks).</summary>
    [Fact]
    public async Task WithoutPrivateNetworksWebhookUrlsMustBeHttps()
    {
        await using var app = NewApp(allowPrivate: false);
        var org = await app.CreateOrgAsync(subscribe: false);
        using var provider = app.Provider();
        var path = $"/provider/v1/organizations/{org.Id}/webhooks";
        var bad = await (await provider.PutAsync(path, Json(new { urls = new[] { "https://receiver.example/hook", "http://receiver.example/hook" } })))
            .AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        Assert.Equal(["urls[1]"], bad.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToArray());
        await (await provider.PutAsync(path, Json(new { urls = new[] { "https://receiver.example/hook" } }))).AssertOk();

        // The operator's own receivers are configuration: a plain-http one stops the start.
        await using var misconfigured = KeygateApp.With(new()
        {
            ["Keygate:Webhooks:AllowPrivateNetworks"] = "false",
            ["Keygate:Webhooks:OperatorUrls:0"] = "http://operator.example/hook",
            ["Keygate:Webhooks:OperatorSecret"] = OperatorSecret,
        });
        var refused = Assert.ThrowsAny<Exception>(() => misconfigured.Services);
        Assert.Contains("OperatorUrls must be absolute https URLs", refused.ToString());
        await using var allowed = KeygateApp.With(new()
        {
            ["Keygate:Webhooks:AllowPrivateNetworks"] = "true",
            ["Keygate:Webhooks:OperatorUrls:0"] = "http://operator.example/hook",
            ["Keygate:Webhooks:OperatorSecret"] = OperatorSecret,
        });
        Assert.Equal(HttpStatusCode.OK, (await allowed.Client().GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task AServiceProviderSetsOnlyItsOwnOrgsAndItsOwnWebhooks()
    {
        await using var app = NewApp();
        async Task<(long Id, HttpClient Client)> Reseller(string name)
        {
            var sp = await (await app.Provider().PostAsync("/provider/v1/serviceProviders", Json(new { name }))).AssertOk(HttpStatusCode.Created);
            return (sp.GetProperty("id").GetInt64(), app.Provider(sp.GetProperty("token").GetString()));
        }
        var (mineId, mine) = await Reseller("Mine");
        var (otherId, other) = await Reseller("Other");
        var myOrg = await app.CreateOrgAsync(subscribe: false, provider: mine);
        var theirOrg = await app.CreateOrgAsync(subscribe: false, provider: other);
        var body = Json(new { urls = new[] { "https://hooks.example/" } });

        await (await mine.PutAsync($"/provider/v1/organizations/{theirOrg.Id}/webhooks", body)).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await mine.PutAsync($"/provider/v1/serviceProviders/{otherId}/webhooks", body)).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await mine.PutAsync("/provider/v1/organizations/abc/webhooks", body)).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await app.Provider().PutAsync("/provider/v1/serviceProviders/999999/webhooks", body)).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await mine.PutAsync($"/provider/v1/organizations/{myOrg.Id}/webhooks", body)).AssertOk();
        await (await mine.PutAsync($"/provider/v1/serviceProviders/{mineId}/webhooks", body)).AssertOk();
        // The operator may set anyone's.
        await (await app.Provider().PutAsync($"/provider/v1/organizations/{theirOrg.Id}/webhooks", body)).AssertOk();
        await (await app.Provider().PutAsync($"/provider/v1/serviceProviders/{otherId}/webhooks", body)).AssertOk();
        other.Dispose();
        mine.Dispose();
    }

    [Fact]
    public async Task AGeneratedSecretIsReturnedStoredEncryptedAndNeverShownInTheAuditOrgViewsOrLogs()
    {
        await using var app = NewApp();
        var org = await app.CreateOrgAsync();
        using var provider = app.Provider();
        var path = $"/provider/v1/organizations/{org.Id}/webhooks";

        var first = await (await provider.PutAsync(path, Json(new { urls = new[] { "https://hooks.example/a", "https://hooks.example/a" } }))).AssertOk();
        var secret = first.GetProperty("secret").GetString()!;
        Assert.Matches("^[A-Za-z0-9_-]{43,}$", secret); // at least 32 random bytes, base64url
        Assert.Equal(["https://hooks.example/a"], first.GetProperty("urls").EnumerateArray().Select(u => u.GetString()).ToArray());
        var second = await (await provider.PutAsync(path, Json(new { urls = new[] { "https://hooks.example/b" } }))).AssertOk();
        Assert.NotEqual(secret, second.GetProperty("secret").GetString()); // a fresh one each time none is given

        var audit = await (await provider.GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).AssertOk();
        Assert.Equal(2, audit.GetProperty("items").EnumerateArray().Count(i => i.GetProperty("action").GetString() == "webhooks.update"));
        var views = (await provider.GetStringAsync($"/provider/v1/organizations/{org.Id}")) + await provider.GetStringAsync("/provider/v1/organizations");
        foreach (var s in new[] { secret, second.GetProperty("secret").GetString()! })
        {
            Assert.DoesNotContain(s, audit.GetRawText());
            Assert.DoesNotContain(s, views);
            Assert.DoesNotContain(app.Logs, l => l.Contains(s, StringComparison.Ordinal));
        }

        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var endpoint = await db.WebhookEndpoints.AsNoTracking().SingleAsync(e => e.OrganizationId == org.Id);
        var vault = app.Service<KeyVault>();
        Assert.Equal(second.GetProperty("secret").GetString(), vault.DecryptWebhookSecret(endpoint.Secret, endpoint.Id));
        Assert.Equal(-1, endpoint.Secret.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(second.GetProperty("secret").GetString()!)));
        // Bound to its purpose: a webhook ciphertext does not open as an API key's, nor as another endpoint's.
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => vault.Decrypt(endpoint.Secret, endpoint.Id, 1));
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => vault.DecryptWebhookSecret(endpoint.Secret, endpoint.Id + 1));
    }

    // ---------------------------------------------------------------- helpers

    private static async Task<string> SetWebhooksAsync(HttpClient provider, string path, string[] urls) =>
        (await (await provider.PutAsync(path, Json(new { urls }))).AssertOk()).GetProperty("secret").GetString()!;

    private static async Task DisableAsync(KeygateApp app, TestOrg org) =>
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/disable",
            Json(new { reason = "OTHER" }))).AssertOk();

    /// <summary>Waits (bounded) until the receiver has answered 200 to <paramref name="count"/> events of the type.</summary>
    private static async Task<ReceivedWebhook[]> ReceivedAsync(WebhookReceiver receiver, string type, int count)
    {
        await UntilAsync(() => Task.FromResult(receiver.Delivered().Count(r => r.Type == type) >= count), $"{count} {type} deliveries");
        return receiver.Delivered().Where(r => r.Type == type).ToArray();
    }

    private static async Task UntilAsync(Func<Task<bool>> done, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"gave up waiting for {what}");
            await Task.Delay(50);
        }
    }

    private static void AssertNoBackgroundFailures(KeygateApp app) =>
        Assert.DoesNotContain(app.Logs, l => l.Contains("is tried again shortly", StringComparison.Ordinal));

    private static async Task<List<WebhookDelivery>> DeliveriesAsync(KeygateApp app, long orgId)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var events = db.WebhookEvents.Where(e => e.OrganizationId == orgId).Select(e => e.Id);
        return await db.WebhookDeliveries.AsNoTracking().Where(d => events.Contains(d.WebhookEventId)).OrderBy(d => d.Id).ToListAsync();
    }

    private static async Task<int> EventCountAsync(KeygateApp app, long orgId, string type)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDbContext>().WebhookEvents.CountAsync(e => e.OrganizationId == orgId && e.Type == type);
    }

    private static async Task<long> StateVersionAsync(KeygateApp app, long orgId)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDbContext>().Organizations.Where(o => o.Id == orgId).Select(o => o.StateVersion).SingleAsync();
    }
}
