using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>A Keygate host whose sandbox upstream is a real receiver on Kestrel loopback.</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public SandboxUpstream Upstream { get; private set; } = null!;
    public KeygateApp App { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Upstream = await SandboxUpstream.StartAsync();
        App = KeygateApp.With(new() { ["Keygate:Sandbox:UpstreamUrl"] = Upstream.Url });
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// The allocation bound measures the whole process, so these tests run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(nameof(SandboxTests), DisableParallelization = true)]
public sealed class SandboxCollection;

/// <summary>Sandbox file submission (contract A6), through HTTP on the real host and a real upstream.</summary>
[Collection(nameof(SandboxTests))]
public sealed class SandboxTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private const long MiB = 1024 * 1024;
    private readonly KeygateApp app = fixture.App;
    private readonly SandboxUpstream upstream = fixture.Upstream;

    private sealed record SandboxOrg(TestOrg Org, HttpClient Session, string Token, long KeyId);

    private static async Task<SandboxOrg> SandboxOrgAsync(KeygateApp app, long? expiresAt = null)
    {
        var org = await app.CreateOrgAsync(expiresAt: expiresAt);
        var session = await app.SessionAsync(org);
        var key = await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = "SANDBOX_SUBMISSION" }))).AssertOk(HttpStatusCode.Created);
        return new SandboxOrg(org, session, key.GetProperty("keyValue").GetString()!, key.GetProperty("id").GetInt64());
    }

    private static Task<HttpResponseMessage> SubmitAsync(KeygateApp app, string? token, HttpContent? content = null, string query = "")
    {
        var path = "/zscsb/submit?" + (token is null ? "" : "api_token=" + token) + query;
        return app.Client().PostAsync(path, content ?? File(100));
    }

    private static ByteArrayContent File(int length, string type = "application/octet-stream")
    {
        var content = new ByteArrayContent(RandomNumberGenerator.GetBytes(length));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        return content;
    }

    private static StreamContent Generated(long length, bool sendLength)
    {
        var content = new StreamContent(new GeneratedFile(length));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-msdownload");
        if (sendLength) content.Headers.ContentLength = length;
        return content;
    }

    private static async Task<long> UsedTodayAsync(HttpClient session) =>
        (await (await session.GetAsync("/api/v1/usage")).AssertOk()).GetProperty("sandbox").GetProperty("usedToday").GetInt64();

    /// <summary>A query parameter that lets the upstream's record of one submission be found.</summary>
    private static string Tag() => Guid.NewGuid().ToString("N");

    private void NextSecond() => app.Clock.Advance(TimeSpan.FromSeconds(1));

    // ---------------------------------------------------------------- forwarding

    [Fact]
    public async Task AFileIsStreamedUpstreamWithoutTheTokenAndTheAnswerRelayed()
    {
        var s = await SandboxOrgAsync(app);
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-msdownload");
        var tag = Tag();

        var r = await SubmitAsync(app, s.Token, content, "&force=1&tag=" + tag);

        var body = await r.AssertOk(HttpStatusCode.Created);
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.Equal(bytes.Length, body.GetProperty("received").GetInt64());
        Assert.Equal(sha, body.GetProperty("sha256").GetString());
        var seen = upstream.Find(tag)!;
        Assert.NotNull(seen);
        Assert.Contains("force=1", seen.Query);
        Assert.DoesNotContain("api_token", seen.Query, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(s.Token, seen.Query);
        Assert.Equal("application/x-msdownload", seen.ContentType);
        Assert.Equal(bytes.Length, seen.Bytes);
        Assert.Equal(sha, seen.Sha256);
        Assert.Equal(1, await UsedTodayAsync(s.Session));
    }

    [Fact]
    public async Task AnyContentTypeIsAcceptedAndTheUpstreamsOwnErrorsAreRelayedAsTheyAre()
    {
        var s = await SandboxOrgAsync(app);
        var tag = Tag();

        var r = await SubmitAsync(app, s.Token, File(10, "text/plain"), "&status=422&tag=" + tag);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
        Assert.Equal("text/plain", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal("upstream says no", await r.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", upstream.Find(tag)!.ContentType);
        NextSecond();
        var form = new MultipartFormDataContent { { File(10), "file", "sample.bin" } };
        await (await SubmitAsync(app, s.Token, form)).AssertOk(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A12MiBFileIsForwardedIntactWithoutBeingBuffered(bool sendLength)
    {
        var s = await SandboxOrgAsync(app);
        const long length = 12 * MiB;
        var expected = GeneratedFile.Sha256Of(length);
        var tag = Tag();
        using var client = app.Client();
        // Warm up the path once (JIT, connection pool) so the measurement sees only the transfer.
        await (await client.PostAsync($"/zscsb/submit?api_token={s.Token}&warmup=1", File(10))).AssertOk(HttpStatusCode.Created);
        NextSecond();

        var before = GC.GetTotalAllocatedBytes(true);
        var r = await client.PostAsync($"/zscsb/submit?api_token={s.Token}&tag={tag}", Generated(length, sendLength));
        var body = await r.AssertOk(HttpStatusCode.Created);
        var allocated = GC.GetTotalAllocatedBytes(true) - before;

        Assert.Equal(length, body.GetProperty("received").GetInt64());
        Assert.Equal(expected, body.GetProperty("sha256").GetString());
        var seen = upstream.Find(tag)!;
        Assert.Equal(length, seen.Bytes);
        Assert.Equal(expected, seen.Sha256);
        Assert.Equal(sendLength ? length : null, seen.ContentLength);
        // The file went through in small pieces: the whole process allocated far less than the file.
        Assert.True(allocated < 4 * MiB, $"allocated {allocated / 1024} KiB while forwarding a {length / MiB} MiB file");
    }

    // ---------------------------------------------------------------- refusals in the contract's order

    [Fact]
    public async Task MissingUnknownMalformedRegeneratedAwayAndDeletedTokensGet401InvalidApiToken()
    {
        var s = await SandboxOrgAsync(app);
        var cloudKey = await app.KeyValueAsync(s.Org);
        var started = upstream.Started;

        await (await SubmitAsync(app, null)).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
        await (await SubmitAsync(app, "")).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
        await (await SubmitAsync(app, RandomAlphanumerics(32))).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
        await (await SubmitAsync(app, s.Token[..31])).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
        await (await SubmitAsync(app, s.Token[..31] + "-")).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
        await (await SubmitAsync(app, cloudKey)).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
        await (await SubmitAsync(app, s.Token, query: "&api_token=" + s.Token)).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");

        var regenerated = await (await s.Session.PostAsync($"/api/v1/apiKeys/{s.KeyId}/regenerate", null)).AssertOk();
        var newToken = regenerated.GetProperty("keyValue").GetString()!;
        await (await SubmitAsync(app, s.Token)).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
        Assert.Equal(started, upstream.Started);
        await (await SubmitAsync(app, newToken)).AssertOk(HttpStatusCode.Created);

        await (await s.Session.DeleteAsync($"/api/v1/apiKeys/{s.KeyId}")).AssertOk(HttpStatusCode.NoContent);
        NextSecond();
        await (await SubmitAsync(app, newToken)).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
        Assert.Equal(started + 1, upstream.Started);
    }

    [Fact]
    public async Task ADisabledSandboxKeyGets403ApiKeyDisabledUntilEnabled()
    {
        var s = await SandboxOrgAsync(app);
        var keyPath = $"/provider/v1/organizations/{s.Org.Id}/apiKeys/{s.KeyId}";
        await (await app.Provider().PostAsync(keyPath + "/disable", Json(new { reason = "OTHER", note = "x" }))).AssertOk();
        var started = upstream.Started;

        await (await SubmitAsync(app, s.Token)).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        Assert.Equal(started, upstream.Started);
        Assert.Equal(0, await UsedTodayAsync(s.Session));

        await (await app.Provider().PostAsync(keyPath + "/enable", null)).AssertOk();
        await (await SubmitAsync(app, s.Token)).AssertOk(HttpStatusCode.Created);
    }

    [Fact]
    public async Task AnExpiredSubscriptionGets403SubscriptionExpiredAndNoneGetsApiSubscriptionRequired()
    {
        var expiresAt = app.Clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds();
        var s = await SandboxOrgAsync(app, expiresAt);
        await (await SubmitAsync(app, s.Token)).AssertOk(HttpStatusCode.Created);
        var started = upstream.Started;

        app.Clock.Advance(TimeSpan.FromMinutes(11));
        await (await SubmitAsync(app, s.Token)).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");

        await (await app.Provider().PutAsync($"/provider/v1/organizations/{s.Org.Id}/subscription",
            Json(new { enabled = false, expiresAt = (long?)null }))).AssertOk();
        await (await SubmitAsync(app, s.Token)).AssertError(HttpStatusCode.Forbidden, "API_SUBSCRIPTION_REQUIRED");
        Assert.Equal(started, upstream.Started);
    }

    /// <summary>Contract A2 v3 on the sandbox route too: another site, a sibling subdomain or a foreign Origin is refused.</summary>
    [Theory]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData("Origin", "https://evil.example")]
    [InlineData("Origin", "null")]
    public async Task ACrossSiteSubmissionIsRefusedWith403AccessDenied(string header, string value)
    {
        var s = await SandboxOrgAsync(app);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/zscsb/submit?api_token={s.Token}") { Content = File(10) };
        request.Headers.Add(header, value);

        await (await app.Client().SendAsync(request)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        Assert.Equal(0, await UsedTodayAsync(s.Session));
    }

    /// <summary>The sandbox keeps any content type (A6): a browser form from the server's own origin is a submission like any other.</summary>
    [Fact]
    public async Task ASameOriginFormSubmissionIsAccepted()
    {
        var s = await SandboxOrgAsync(app);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/zscsb/submit?api_token={s.Token}") { Content = File(10, "multipart/form-data; boundary=x") };
        request.Headers.Add("Sec-Fetch-Site", "same-origin");
        request.Headers.Add("Origin", app.BaseAddress.GetLeftPart(UriPartial.Authority));

        await (await app.Client().SendAsync(request)).AssertOk(HttpStatusCode.Created);
        Assert.Equal(1, await UsedTodayAsync(s.Session));
    }

    [Fact]
    public async Task ASecondFileWithinTheSameSecondGets429WithRetryAfter()
    {
        var s = await SandboxOrgAsync(app);
        await (await SubmitAsync(app, s.Token)).AssertOk(HttpStatusCode.Created);

        var r = await SubmitAsync(app, s.Token);
        var body = await r.AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED");
        Assert.Equal("1", Assert.Single(r.Headers.GetValues("Retry-After")));
        Assert.Equal("Rate Limit (1/SECOND) exceeded", body.GetProperty("message").GetString());
        Assert.Equal("1 seconds", body.GetProperty("Retry-After").GetString());

        NextSecond();
        await (await SubmitAsync(app, s.Token)).AssertOk(HttpStatusCode.Created);
        Assert.Equal(2, await UsedTodayAsync(s.Session));
    }

    [Fact]
    public async Task TheDailyQuotaRefusesWith429UntilTheNextUtcDay()
    {
        var s = await SandboxOrgAsync(app);
        await (await app.Provider().PutAsync($"/provider/v1/organizations/{s.Org.Id}/limits", Json(new { sandboxDailyQuota = 2 }))).AssertOk();
        await (await SubmitAsync(app, s.Token)).AssertOk(HttpStatusCode.Created);
        NextSecond();
        await (await SubmitAsync(app, s.Token)).AssertOk(HttpStatusCode.Created);
        NextSecond();

        var r = await SubmitAsync(app, s.Token);
        var body = await r.AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED");
        var now = app.Clock.GetUtcNow();
        var midnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        var wait = (long)Math.Ceiling((midnight - now).TotalSeconds);
        Assert.Equal(wait.ToString(), Assert.Single(r.Headers.GetValues("Retry-After")));
        Assert.Equal($"{wait} seconds", body.GetProperty("Retry-After").GetString());
        Assert.Equal(2, await UsedTodayAsync(s.Session));

        app.Clock.SetUtcNow(midnight);
        var session = await app.SessionAsync(s.Org); // the first session idled out overnight
        await (await SubmitAsync(app, s.Token)).AssertOk(HttpStatusCode.Created);
        Assert.Equal(1, await UsedTodayAsync(session));
    }

    [Fact]
    public async Task FilesOverTheLimitGet413FileTooLargeByContentLengthOrWhileStreamingAndUseNoQuota()
    {
        await using var small = KeygateApp.With(new()
        {
            ["Keygate:Sandbox:UpstreamUrl"] = upstream.Url,
            ["Keygate:Sandbox:MaxFileBytes"] = MiB.ToString(),
        });
        var s = await SandboxOrgAsync(small);
        var (tooLong, chunked) = (Tag(), Tag());

        await (await SubmitAsync(small, s.Token, File((int)MiB + 1), "&tag=" + tooLong)).AssertError(HttpStatusCode.RequestEntityTooLarge, "FILE_TOO_LARGE");
        await (await SubmitAsync(small, s.Token, Generated(MiB + 64 * 1024, sendLength: false), "&tag=" + chunked))
            .AssertError(HttpStatusCode.RequestEntityTooLarge, "FILE_TOO_LARGE");
        Assert.Null(upstream.Find(tooLong));
        Assert.Null(upstream.Find(chunked));
        Assert.Equal(0, await UsedTodayAsync(s.Session));

        small.Clock.Advance(TimeSpan.FromSeconds(1));
        var exact = await (await SubmitAsync(small, s.Token, Generated(MiB, sendLength: false))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(GeneratedFile.Sha256Of(MiB), exact.GetProperty("sha256").GetString());
        Assert.Equal(1, await UsedTodayAsync(s.Session));
    }

    [Fact]
    public async Task OnRealKestrelAFileAboveItsDefaultBodyLimitPassesAndThe413IsOurs()
    {
        await using var real = KeygateApp.With(new()
        {
            ["Keygate:Sandbox:UpstreamUrl"] = upstream.Url,
            ["Keygate:Sandbox:MaxFileBytes"] = (32 * MiB).ToString(),
        });
        real.StartKestrel();
        var s = await SandboxOrgAsync(real);

        // Kestrel refuses bodies over 30,000,000 bytes unless the endpoint raises its limit.
        const long big = 30 * MiB;
        var body = await (await SubmitAsync(real, s.Token, Generated(big, sendLength: false))).AssertOk(HttpStatusCode.Created);
        Assert.Equal(GeneratedFile.Sha256Of(big), body.GetProperty("sha256").GetString());
        real.Clock.Advance(TimeSpan.FromSeconds(1));
        await (await SubmitAsync(real, s.Token, Generated(32 * MiB + 1, sendLength: false)))
            .AssertError(HttpStatusCode.RequestEntityTooLarge, "FILE_TOO_LARGE");
        real.Clock.Advance(TimeSpan.FromSeconds(1));
        await (await SubmitAsync(real, s.Token, Generated(40 * MiB, sendLength: true)))
            .AssertError(HttpStatusCode.RequestEntityTooLarge, "FILE_TOO_LARGE");
        // Early refusals reach a client that sends its whole file before reading the answer.
        await (await SubmitAsync(real, RandomAlphanumerics(32), Generated(40 * MiB, sendLength: true)))
            .AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
        Assert.Equal(1, await UsedTodayAsync(s.Session));
    }

    [Fact]
    public async Task WithoutAnUpstreamSubmissionsGet503SandboxUpstreamNotConfiguredAndUseNoQuota()
    {
        await using var bare = new KeygateApp();
        var s = await SandboxOrgAsync(bare);

        await (await SubmitAsync(bare, s.Token)).AssertError(HttpStatusCode.ServiceUnavailable, "SANDBOX_UPSTREAM_NOT_CONFIGURED");
        Assert.Equal(0, await UsedTodayAsync(s.Session));
        // The order still holds: an unknown token is a 401 before anything about the upstream.
        await (await SubmitAsync(bare, RandomAlphanumerics(32))).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
    }

    [Fact]
    public async Task AnUnreachableUpstreamGets502SandboxUpstreamUnavailableAndUsesNoQuota()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there any more: connections are refused
        await using var broken = KeygateApp.With(new() { ["Keygate:Sandbox:UpstreamUrl"] = $"http://127.0.0.1:{port}/submit" });
        var s = await SandboxOrgAsync(broken);

        await (await SubmitAsync(broken, s.Token)).AssertError(HttpStatusCode.BadGateway, "SANDBOX_UPSTREAM_UNAVAILABLE");
        Assert.Equal(0, await UsedTodayAsync(s.Session));
        Assert.DoesNotContain(broken.Logs, l => l.Contains(s.Token));
    }

    [Fact]
    public async Task SubmissionsDoNotCountAsLegacyApiCalls()
    {
        var s = await SandboxOrgAsync(app);
        var before = (await (await s.Session.GetAsync("/api/v1/usage")).AssertOk()).GetProperty("calls").GetInt64();

        await (await SubmitAsync(app, s.Token)).AssertOk(HttpStatusCode.Created);
        await (await SubmitAsync(app, s.Token)).AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED");

        var after = (await (await s.Session.GetAsync("/api/v1/usage")).AssertOk()).GetProperty("calls").GetInt64();
        Assert.Equal(before + 1, after); // only the usage read itself
    }

    // ---------------------------------------------------------------- secrecy

    [Fact]
    public async Task NoLogLineOfKeygateOrTheUpstreamEverContainsTheToken()
    {
        var s = await SandboxOrgAsync(app);
        var tag = Tag();
        await (await SubmitAsync(app, s.Token, File(1000), "&force=1&tag=" + tag)).AssertOk(HttpStatusCode.Created);
        await (await SubmitAsync(app, s.Token)).AssertError(HttpStatusCode.TooManyRequests, "RATE_LIMIT_EXCEEDED");
        NextSecond();
        Assert.Equal(HttpStatusCode.InternalServerError, (await SubmitAsync(app, s.Token, File(20, "text/plain"), "&status=500")).StatusCode);
        NextSecond();
        await (await SubmitAsync(app, s.Token, Generated(2 * MiB, sendLength: false), "&force=1")).AssertOk(HttpStatusCode.Created);
        var regenerated = await (await s.Session.PostAsync($"/api/v1/apiKeys/{s.KeyId}/regenerate", null)).AssertOk();
        await (await SubmitAsync(app, s.Token)).AssertError(HttpStatusCode.Unauthorized, "INVALID_API_TOKEN");
        var newToken = regenerated.GetProperty("keyValue").GetString()!;

        // The capture works: the request was logged (its endpoint, the upstream call), only never with the token.
        Assert.Contains(app.Logs, l => l.Contains("/zscsb/submit"));
        Assert.Contains(upstream.Logs, l => l.Contains("Request starting") && l.Contains(tag));
        foreach (var token in new[] { s.Token, newToken })
        {
            Assert.DoesNotContain(app.Logs, l => l.Contains(token));
            Assert.DoesNotContain(upstream.Logs, l => l.Contains(token));
        }
    }

    [Fact]
    public async Task LoggingConfiguredDownToTraceStillNeverLogsTheToken()
    {
        await using var verbose = KeygateApp.With(new()
        {
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
            // A provider-specific rule beats every provider-less one, so this is the hardest case.
            [$"Logging:{typeof(CapturingLoggerProvider).FullName}:LogLevel:Default"] = "Trace",
        });
        var s = await SandboxOrgAsync(verbose);

        await (await SubmitAsync(verbose, s.Token, query: "&force=1")).AssertError(HttpStatusCode.ServiceUnavailable, "SANDBOX_UPSTREAM_NOT_CONFIGURED");

        Assert.Contains(verbose.Logs, l => l.StartsWith("Trace ")); // the configuration did apply
        Assert.DoesNotContain(verbose.Logs, l => l.Contains(s.Token));
    }

    private static string RandomAlphanumerics(int length) =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", length);
}
