using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Tests;

/// <summary>
/// What a refused request must leave as it was: the org as the provider API shows it (subscription, limits, keys
/// and their status), the key values as the org's legacy session reads them, that session still working, and the
/// rows of every table a request could add to or change (sessions, accounts, orgs, providers, keys, webhooks, tokens).
/// </summary>
public sealed record OrgState(string Org, string Keys, string Rows)
{
    public static async Task<OrgState> ReadAsync(KeygateApp app, long orgId, HttpClient session)
    {
        using var op = app.Provider();
        var org = await (await op.GetAsync($"/provider/v1/organizations/{orgId}")).Content.ReadAsStringAsync();
        var auth = await session.GetAsync("/api/v1/auth");
        Assert.True(auth.StatusCode == HttpStatusCode.OK, $"the org's legacy session stopped working: {(int)auth.StatusCode}");
        var keys = await (await session.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk();
        await using var db = app.OpenDatabase();
        var hooks = await db.WebhookEndpoints.OrderBy(w => w.Id).Select(w => new { w.Id, w.Urls, w.Secret, w.UpdatedAtMs }).ToListAsync();
        var rows = string.Join(" ",
            $"orgs={await db.Organizations.CountAsync()}",
            $"providers={await db.ServiceProviders.CountAsync()}",
            $"accounts={await db.Accounts.CountAsync()}",
            $"orgSessions={await db.LegacySessions.CountAsync(s => s.OrganizationId == orgId)}",
            $"keys={string.Join(',', await db.ApiKeys.OrderBy(k => k.Id).Select(k => k.Id + ":" + k.Version).ToListAsync())}",
            $"tokens={await db.ProviderTokens.CountAsync()}",
            $"webhooks={string.Join(';', hooks.Select(h => $"{h.Id}:{string.Join(',', h.Urls)}:{Convert.ToHexString(h.Secret)}:{h.UpdatedAtMs}"))}");
        return new OrgState(org, keys.GetRawText(), rows);
    }
}
