using System.Net;
using Npgsql;

namespace Keygate.Tests;

/// <summary>
/// An in-process PostgreSQL node whose database connections run through a <see cref="TcpProxy"/>, with one org that
/// it has already served (so its snapshot is cached), for the tests of a database that goes away and comes back.
/// </summary>
public sealed class ProxiedApp : IAsyncDisposable
{
    public const string PostgresOnly = "PostgreSQL outages need KEYGATE_TEST_POSTGRES (the PostgreSQL pass of .ci/run).";

    public required KeygateApp App { get; init; }
    public required TcpProxy Proxy { get; init; }
    public required TestOrg Org { get; init; }

    public static async Task<ProxiedApp> CreateAsync()
    {
        Assert.SkipUnless(KeygateApp.OnPostgres, PostgresOnly);
        var server = new NpgsqlConnectionStringBuilder(KeygateApp.PostgresServer);
        var proxy = new TcpProxy(server.Host ?? "127.0.0.1", server.Port);
        var app = KeygateApp.ThroughProxy(proxy.Port);
        return new ProxiedApp { App = app, Proxy = proxy, Org = await app.CreateOrgAsync() };
    }

    /// <summary>What the database holds, read directly rather than through the proxy.</summary>
    public async Task<OrgLedger> LedgerAsync()
    {
        await using var db = App.OpenDatabase();
        return await OrgLedger.ReadAsync(db, Org.Id, new KeyVault(Convert.FromBase64String(App.Kek)));
    }

    /// <summary>Gives the network back; /readyz must then come back by itself, with no restart (a bounded wait).</summary>
    public async Task RestoreAsync()
    {
        Proxy.Restore();
        for (var i = 0; i < 300; i++)
        {
            if ((await App.Client().GetAsync("/readyz").WaitAsync(Unavailable.HangBound)).StatusCode == HttpStatusCode.OK) return;
            await Task.Delay(100);
        }
        Assert.Fail("/readyz did not come back within 30 s of the database returning");
    }

    /// <summary>True on 200, false on 400 AUTHENTICATION_FAILED; anything else fails the test.</summary>
    public async Task<bool> LogsInAsync(string value)
    {
        var r = await App.LoginAsync(Org.Username, Org.Password, value);
        if (r.StatusCode == HttpStatusCode.OK) return true;
        await r.AssertError(HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
        return false;
    }

    /// <summary>Nothing of a failed change reached the database: same StateVersion, keys and success events.</summary>
    public async Task AssertUnchangedSinceAsync(OrgLedger before)
    {
        var after = await LedgerAsync();
        Assert.Equal(before.StateVersion, after.StateVersion);
        Assert.Equal(before.Keys, after.Keys);
        Assert.Equal(before.Successes, after.Successes);
        after.AssertConsistent();
    }

    /// <summary>One regenerate through the legacy API that meets the armed fault: it answers 503, then the network returns.</summary>
    public async Task RegenerateThroughFaultAsync(HttpClient session, Action<TcpProxy> fault)
    {
        fault(Proxy);
        await Unavailable.AssertLegacy(session.PostAsync($"/api/v1/apiKeys/{Org.KeyId}/regenerate", null));
        await RestoreAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        App.Dispose();
    }
}
