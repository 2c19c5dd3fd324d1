using System.Net;

namespace Keygate.Tests;

/// <summary>
/// Contract A2 "Lifetimes": a legacy session ends Keygate:SessionMaxHours (default 24) after its login, whatever its
/// activity. Each test keeps the session busy (a call every 20 minutes), so the idle timeout is never the reason.
/// </summary>
public sealed class SessionLifetimeTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(20);

    /// <summary>Calls every <see cref="Step"/> until <paramref name="until"/> after <paramref name="loginAt"/>; each is accepted.</summary>
    private static async Task KeepBusyAsync(KeygateApp app, HttpClient session, DateTimeOffset loginAt, TimeSpan until)
    {
        while (app.Clock.GetUtcNow() + Step < loginAt + until)
        {
            app.Clock.Advance(Step);
            await (await session.GetAsync("/api/v1/auth")).AssertOk();
        }
    }

    [Fact]
    public async Task ABusyLegacySessionEndsTwentyFourHoursAfterItsLogin()
    {
        await using var app = new KeygateApp();
        var org = await app.CreateOrgAsync();
        var loginAt = app.Clock.GetUtcNow();
        using var session = await app.SessionAsync(org);
        await KeepBusyAsync(app, session, loginAt, TimeSpan.FromHours(24));

        app.Clock.SetUtcNow(loginAt + TimeSpan.FromHours(24));
        await (await session.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    [Fact]
    public async Task ALegacySessionPastSessionMaxHoursIsRefusedAfterARestartToo()
    {
        var first = KeygateApp.With(new() { ["Keygate:SessionMaxHours"] = "3" });
        var org = await first.CreateOrgAsync();
        var loginAt = first.Clock.GetUtcNow();
        string id;
        using (var session = await first.SessionAsync(org))
        {
            id = session.DefaultRequestHeaders.GetValues("Cookie").Single()["JSESSIONID=".Length..];
            await KeepBusyAsync(first, session, loginAt, TimeSpan.FromHours(3) - Step);
            await first.Service<SessionStore>().SweepAsync(TestContext.Current.CancellationToken); // the last-seen reaches the database
        }
        await using var second = KeygateApp.Reopen(first, new() { ["Keygate:SessionMaxHours"] = "3" });
        await first.DisposeAsync();

        // The restarted node took the session back and serves it until its lifetime is over, busy as it is.
        using var again = second.SessionClient(id);
        await (await again.GetAsync("/api/v1/auth")).AssertOk();
        await KeepBusyAsync(second, again, loginAt, TimeSpan.FromHours(3));
        second.Clock.SetUtcNow(loginAt + TimeSpan.FromHours(3));
        await (await again.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");

        // And a node started after the lifetime is over never takes it back.
        await using var third = KeygateApp.Reopen(second, new() { ["Keygate:SessionMaxHours"] = "3" });
        await second.DisposeAsync();
        await (await third.SessionClient(id).GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }
}
