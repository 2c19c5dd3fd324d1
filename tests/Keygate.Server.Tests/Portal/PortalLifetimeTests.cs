using System.Net;

namespace Keygate.Tests;

/// <summary>
/// Contract A2 "Lifetimes" for the portal: a login ends 12 hours after it whatever the activity, and a logout is
/// durable: a copy of the logged-out cookie is refused on every node and after any restart.
/// </summary>
public sealed class PortalLifetimeTests
{
    [Fact]
    public async Task APortalCookieCopiedBeforeLogoutIsRefusedAfterARestart()
    {
        var first = new KeygateApp();
        var org = await first.CreateOrgAsync();
        PortalSession.HandCookies cookies;
        using (var c = first.Client())
        {
            cookies = await c.PortalLoginByHandAsync(org.Username, org.Password);
            await c.PortalLogoutByHandAsync(cookies);
            await c.AssertSentToLoginAsync(cookies);
        }
        await using var second = KeygateApp.Reopen(first);
        await first.DisposeAsync();

        using var replay = second.Client();
        await replay.AssertSentToLoginAsync(cookies);
        // The cookie is refused as logged out, not as unreadable: another login's cookie works on this node.
        var other = await replay.PortalLoginByHandAsync(org.Username, org.Password);
        Assert.Equal(HttpStatusCode.OK, (await replay.SendAsync(PortalSession.WithCookies(HttpMethod.Get, PortalSession.KeyPage, other.Portal))).StatusCode);
    }

    [Fact]
    public async Task APortalLoginEndsTwelveHoursAfterItEvenWithActivityAndARestartBetween()
    {
        var first = new KeygateApp();
        var org = await first.CreateOrgAsync();
        var loginAt = first.Clock.GetUtcNow();
        string portal;
        using (var c = first.Client()) portal = (await c.PortalLoginByHandAsync(org.Username, org.Password)).Portal;

        // The key page with the newest cookie, which each visit renews.
        async Task<HttpResponseMessage> VisitAsync(KeygateApp app)
        {
            using var c = app.Client();
            var r = await c.SendAsync(PortalSession.WithCookies(HttpMethod.Get, PortalSession.KeyPage, portal));
            if (r.Headers.TryGetValues("Set-Cookie", out var set) && set.FirstOrDefault(v => v.StartsWith("keygate_portal=")) is { } renewed)
                portal = renewed.Split(';')[0];
            return r;
        }
        // A visit every 25 minutes: never idle for 30.
        async Task KeepBusyAsync(KeygateApp app, TimeSpan until)
        {
            while (app.Clock.GetUtcNow() + TimeSpan.FromMinutes(25) < loginAt + until)
            {
                app.Clock.Advance(TimeSpan.FromMinutes(25));
                Assert.Equal(HttpStatusCode.OK, (await VisitAsync(app)).StatusCode);
            }
        }

        await KeepBusyAsync(first, TimeSpan.FromHours(6));
        await using var second = KeygateApp.Reopen(first);
        await first.DisposeAsync();
        await KeepBusyAsync(second, TimeSpan.FromHours(12));

        second.Clock.SetUtcNow(loginAt + TimeSpan.FromHours(12));
        var r = await VisitAsync(second);
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.StartsWith("/login", r.Headers.Location!.PathAndQuery);
    }
}
