using System.Net;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Issue 18: on a real server (Kestrel, keep-alive connections) a connection remembers the session its last Cookie header
/// named, so the gate does not hash the same id on every call. What must hold whatever it remembers: a session that ended
/// is refused on the very next call of the connection, and any other header is looked up on its own.
/// </summary>
[Collection(nameof(MachineWide))]
public sealed class SessionOnAConnectionTests
{
    [Fact]
    public async Task AKeepAliveConnectionSeesItsSessionEndAtOnceAndLooksUpEveryOtherHeader()
    {
        await using var database = new NodeDatabase();
        await using var node = await NodeProcess.StartAsync(database.Environment());
        TestOrg org;
        using (var op = FaultTests.Operator(node, database)) org = await CreateOrgAsync(op, op);
        var key = (await FaultTests.LedgerAsync(database, org.Id)).Cloud!.Value;

        // Every call of this client goes over one connection, and it keeps no cookie of its own.
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1, UseCookies = false };
        using var c = new HttpClient(handler) { BaseAddress = node.Address, Timeout = TimeSpan.FromSeconds(30) };
        async Task<string> LoginAsync()
        {
            using var r = await c.LoginAsync(org.Username, org.Password, key, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await r.AssertOk();
            return SessionIdOf(r)!;
        }
        async Task<HttpResponseMessage> CheckAsync(string cookie)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth");
            request.Headers.Add("Cookie", cookie);
            return await c.SendAsync(request);
        }

        var first = await LoginAsync();
        for (var i = 0; i < 3; i++) await (await CheckAsync($"JSESSIONID={first}")).AssertOk();
        var second = await LoginAsync();
        await (await CheckAsync($"JSESSIONID={second}")).AssertOk();
        await (await CheckAsync($"JSESSIONID={first}")).AssertOk();
        // Another id of the same length, and the remembered one with a character more: each looked up, neither known.
        var other = first[..^1] + (first[^1] == '0' ? '1' : '0');
        await (await CheckAsync($"JSESSIONID={other}")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await CheckAsync($"JSESSIONID={first}")).AssertOk();
        await (await CheckAsync($"JSESSIONID={first}0")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");

        // The first session ends from another connection; this one's next call with it is refused, the second still works.
        await (await CheckAsync($"JSESSIONID={first}")).AssertOk();
        using (var elsewhere = new HttpClient { BaseAddress = node.Address, Timeout = TimeSpan.FromSeconds(30) })
        {
            elsewhere.DefaultRequestHeaders.Add("Cookie", $"JSESSIONID={first}");
            Assert.Equal(HttpStatusCode.NoContent, (await elsewhere.DeleteAsync("/api/v1/auth")).StatusCode);
        }
        await (await CheckAsync($"JSESSIONID={first}")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await CheckAsync($"JSESSIONID={second}")).AssertOk();
    }
}
