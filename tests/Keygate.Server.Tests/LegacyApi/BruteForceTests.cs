using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Keygate.Tests;

/// <summary>Contract A2 throttling with its defaults, the trusted-proxy rule, and the cap on concurrent hashing.</summary>
public sealed class BruteForceTests
{
    [Fact]
    public async Task WithTheDefaultsAnAddressIsLockedOutAtAttempt101()
    {
        await using var app = new KeygateApp();
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        // 100 failures from one address, spread over usernames so no single username reaches its own limit.
        for (var i = 0; i < 100; i++)
            await (await app.LoginAsync($"nobody{i % 20}@test.example", "wrong password", key))
                .AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        var r = await app.LoginAsync(org.Username, org.Password, key);
        await r.AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
        Assert.True(int.Parse(r.Headers.GetValues("Retry-After").Single()) >= 1);
        app.Clock.Advance(TimeSpan.FromSeconds(901));
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertOk();
    }

    /// <summary>X-Forwarded-For is believed only from a listed proxy; this needs a real socket address.</summary>
    [Fact]
    public async Task ForwardedForIsTrustedOnlyFromKnownProxies()
    {
        var settings = ThreeFailuresPerAddressBehindALocalProxy();
        await using var behindProxy = KeygateApp.With(settings);
        behindProxy.StartKestrel();
        var org = await behindProxy.CreateOrgAsync();
        var key = await behindProxy.KeyValueAsync(org);
        Task<HttpResponseMessage> LoginFrom(KeygateApp app, string forwardedFor, string password) => LoginFromAsync(app, org, key, forwardedFor, password);

        for (var i = 0; i < 3; i++)
            await (await LoginFrom(behindProxy, "203.0.113.7", "wrong password")).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await (await LoginFrom(behindProxy, "203.0.113.7", org.Password)).AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
        // Another client behind the same proxy is another address.
        await (await LoginFrom(behindProxy, "203.0.113.8", org.Password)).AssertOk();
        await behindProxy.Service<AuditWriter>().FlushAsync();
        var audit = await (await behindProxy.Provider().GetAsync($"/provider/v1/organizations/{org.Id}/audit?limit=100")).Content.ReadAsStringAsync();
        Assert.Contains("\"clientAddress\":\"203.0.113.7\"", audit);

        // Without the proxy listed, the header is ignored: every attempt comes from the socket's address.
        settings.Remove("Keygate:KnownProxies:0");
        settings.Remove("Keygate:KnownProxies:1");
        await using var direct = KeygateApp.With(settings);
        direct.StartKestrel();
        org = await direct.CreateOrgAsync();
        key = await direct.KeyValueAsync(org);
        for (var i = 0; i < 3; i++)
            await (await LoginFrom(direct, $"203.0.113.{i}", "wrong password")).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await (await LoginFrom(direct, "198.51.100.9", org.Password)).AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
    }

    /// <summary>
    /// An IPv6 client holds a whole /64, so the per-address limit counts the /64: fresh addresses inside it buy no
    /// fresh attempts. An IPv4 client written IPv4-mapped (as a dual-stack socket or proxy may report it) is that IPv4 client.
    /// </summary>
    [Fact]
    public async Task TheAddressLimitCountsAnIpv6ClientByItsSlash64AndAMappedIpv4ClientAsItsIpv4Address()
    {
        await using var app = KeygateApp.With(ThreeFailuresPerAddressBehindALocalProxy());
        app.StartKestrel();
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        Task<HttpResponseMessage> LoginFrom(string forwardedFor, string password) => LoginFromAsync(app, org, key, forwardedFor, password);

        foreach (var address in new[] { "2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:fffe" })
            await (await LoginFrom(address, "wrong password")).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await (await LoginFrom("2001:db8:1:2:abcd::9", org.Password)).AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
        await (await LoginFrom("2001:db8:1:3::1", org.Password)).AssertOk(); // the next /64 is another client

        foreach (var address in new[] { "::ffff:198.51.100.7", "198.51.100.7", "::ffff:198.51.100.7" })
            await (await LoginFrom(address, "wrong password")).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await (await LoginFrom("198.51.100.7", org.Password)).AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
        await (await LoginFrom("198.51.100.8", org.Password)).AssertOk(); // IPv4 stays per address
    }

    /// <summary>Behind TLS that ends at a listed proxy the session cookie is Secure; nobody else can claim HTTPS.</summary>
    [Fact]
    public async Task ForwardedProtoMakesTheSessionCookieSecureOnlyFromKnownProxies()
    {
        async Task<string> SessionCookieVia(Dictionary<string, string?> settings, string? forwardedProto)
        {
            await using var app = KeygateApp.With(settings);
            app.StartKestrel();
            var org = await app.CreateOrgAsync();
            var key = await app.KeyValueAsync(org);
            using var c = app.Client();
            if (forwardedProto is not null) c.DefaultRequestHeaders.Add("X-Forwarded-Proto", forwardedProto);
            var r = await app.LoginAsync(org.Username, org.Password, key, client: c);
            await r.AssertOk();
            var cookie = r.Headers.GetValues("Set-Cookie").First();
            Assert.StartsWith("JSESSIONID=", cookie);
            return cookie;
        }
        var behindProxy = new Dictionary<string, string?> { ["Keygate:KnownProxies:0"] = "127.0.0.1", ["Keygate:KnownProxies:1"] = "::1" };

        Assert.EndsWith("; Secure", await SessionCookieVia(behindProxy, "https"));
        Assert.DoesNotContain("Secure", await SessionCookieVia(behindProxy, "http"));
        Assert.DoesNotContain("Secure", await SessionCookieVia(behindProxy, null));
        // Not from a listed proxy: the header is the client's word and changes nothing.
        Assert.DoesNotContain("Secure", await SessionCookieVia([], "https"));
    }

    /// <summary>
    /// Parallel guesses all used to pass the throttle check before the first of them had failed. Attempts in flight
    /// now count, so at most the limit is ever tried, however the guesses are timed; the others are told to come
    /// back (503 while the first are in flight, 429 once they failed).
    /// </summary>
    [Fact]
    public async Task ABurstOfParallelGuessesGetsNoMoreTriesThanTheLimit()
    {
        await using var app = KeygateApp.With(new()
        {
            ["Keygate:LoginThrottle:FailuresPerUsername"] = "3",
            ["Keygate:LoginThrottle:FailuresPerAddress"] = "100000",
            // The three allowed guesses queue for the two hashing slots; on a loaded machine the third must not give up
            // waiting (503 SERVICE_BUSY, no failure counted) before the first two are done.
            ["Keygate:HashQueueWaitMilliseconds"] = "60000",
        });
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        await SlowHashAsync(app, org, 200_000); // every guess is still hashing while the others arrive

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => app.LoginAsync(org.Username, "wrong password", key)));
        var tried = answers.Count(r => r.StatusCode == HttpStatusCode.BadRequest);
        Assert.Equal(3, tried);
        foreach (var r in answers.Where(r => r.StatusCode != HttpStatusCode.BadRequest))
        {
            if (r.StatusCode == HttpStatusCode.ServiceUnavailable) await r.AssertError(HttpStatusCode.ServiceUnavailable, "SERVICE_BUSY");
            else await r.AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
        }
        // The three failures fill the window: even the right password waits for it.
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
        app.Clock.Advance(TimeSpan.FromSeconds(901));
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertOk();
    }

    /// <summary>Parallel logins with the right password are never told they failed too often.</summary>
    [Fact]
    public async Task ParallelRightLoginsAreNeverTooManyFailures()
    {
        await using var app = KeygateApp.With(new() { ["Keygate:LoginThrottle:FailuresPerUsername"] = "2" });
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        await SlowHashAsync(app, org, 200_000);

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => app.LoginAsync(org.Username, org.Password, key)));
        Assert.True(answers.Count(r => r.StatusCode == HttpStatusCode.OK) >= 2);
        foreach (var r in answers.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            var busy = await r.AssertError(HttpStatusCode.ServiceUnavailable, "SERVICE_BUSY");
            Assert.Equal(["code", "message"], busy.EnumerateObject().Select(p => p.Name).Order()); // contract A2: {code,message}
            Assert.Equal("1", r.Headers.GetValues("Retry-After").Single());
        }
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertOk(); // every place was given back
    }

    /// <summary>A login that succeeds gives its place back: successes never count against the limit.</summary>
    [Fact]
    public async Task SuccessfulLoginsNeverFillTheWindow()
    {
        await using var app = KeygateApp.With(new() { ["Keygate:LoginThrottle:FailuresPerUsername"] = "2" });
        var org = await app.CreateOrgAsync();
        var key = await app.KeyValueAsync(org);
        for (var i = 0; i < 5; i++) await (await app.LoginAsync(org.Username, org.Password, key)).AssertOk();
        await (await app.LoginAsync(org.Username, "wrong password", key)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertOk();
        await (await app.LoginAsync(org.Username, "wrong password", key)).AssertError(HttpStatusCode.BadRequest, "INVALID_USERNAME_OR_PASSWORD");
        await (await app.LoginAsync(org.Username, org.Password, key)).AssertError(HttpStatusCode.TooManyRequests, "TOO_MANY_FAILED_LOGINS");
    }

    private static Dictionary<string, string?> ThreeFailuresPerAddressBehindALocalProxy() => new()
    {
        ["Keygate:LoginThrottle:FailuresPerAddress"] = "3",
        ["Keygate:LoginThrottle:FailuresPerUsername"] = "1000",
        ["Keygate:KnownProxies:0"] = "127.0.0.1",
        ["Keygate:KnownProxies:1"] = "::1",
    };

    /// <summary>A login relayed by the local proxy for the client at <paramref name="forwardedFor"/>.</summary>
    private static async Task<HttpResponseMessage> LoginFromAsync(KeygateApp app, TestOrg org, string key, string forwardedFor, string password)
    {
        using var c = app.Client();
        c.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return await app.LoginAsync(org.Username, password, key, client: c);
    }

    /// <summary>Makes one admin's password hash expensive (PBKDF2 iterations) without slowing the rest of the suite.</summary>
    private static async Task SlowHashAsync(KeygateApp app, TestOrg org, int iterations)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var hasher = new Microsoft.AspNetCore.Identity.PasswordHasher<Account>(Microsoft.Extensions.Options.Options.Create(
            new Microsoft.AspNetCore.Identity.PasswordHasherOptions { IterationCount = iterations }));
        var admin = await db.Accounts.SingleAsync(a => a.Username == org.Username);
        admin.PasswordHash = hasher.HashPassword(admin, org.Password);
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task ALoginFloodIsCappedAndDoesNotStarveApiCalls()
    {
        // One hashing slot, slow hashes and a short queue: most of a burst of logins must be told to come back.
        await using var app = KeygateApp.With(new()
        {
            ["Keygate:MaxConcurrentHashes"] = "1",
            ["Keygate:HashQueueWaitMilliseconds"] = "50",
            ["Keygate:LoginThrottle:FailuresPerAddress"] = "100000",
            ["Keygate:LoginThrottle:FailuresPerUsername"] = "100000",
        });
        var org = await app.CreateOrgAsync();
        using var session = await app.SessionAsync(org);
        var key = await app.KeyValueAsync(org);
        await SlowHashAsync(app, org, 2_000_000);

        var flood = Enumerable.Range(0, 12).Select(_ => app.LoginAsync(org.Username, "wrong password", key)).ToList();
        // API calls on a live session go on while the flood is hashed.
        for (var i = 0; i < 5; i++) await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        var answers = await Task.WhenAll(flood);
        var busy = answers.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(busy);
        await busy[0].AssertError(HttpStatusCode.ServiceUnavailable, "SERVICE_BUSY");
        Assert.Equal("1", busy[0].Headers.GetValues("Retry-After").Single());
        Assert.All(answers, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.ServiceUnavailable, HttpStatusCode.BadRequest }));
    }
}
