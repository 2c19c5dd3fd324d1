using System.Net;
using System.Text.Json;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Shared steps of the admin, role and password tests (contract A8).</summary>
public static class AdminTestKit
{
    public const string NewPassword = "a fresh long passphrase";

    /// <summary>Adds an admin through <paramref name="session"/> and returns their id and login name.</summary>
    public static async Task<(long Id, string Login)> AddAdminAsync(this HttpClient session, object role, string? login = null)
    {
        login ??= Unique("admin");
        var created = await (await session.PostAsync("/api/v1/adminUsers", Json(new { loginName = login, userName = "Ada", password = Password, role })))
            .AssertOk(HttpStatusCode.Created);
        return (created.GetProperty("id").GetInt64(), login);
    }

    /// <summary>A legacy session of another admin of the org.</summary>
    public static async Task<HttpClient> SessionOfAsync(this KeygateApp app, TestOrg org, string login, string password = Password) =>
        await app.SessionAsync(org with { Username = login, Password = password });

    public static async Task<long> RoleIdAsync(this HttpClient session, string name) =>
        (await (await session.GetAsync("/api/v1/adminRoles")).AssertOk()).EnumerateArray()
            .Single(r => r.GetProperty("name").GetString() == name).GetProperty("id").GetInt64();

    public static async Task<long> SelfIdAsync(this HttpClient session, TestOrg org) =>
        (await (await session.GetAsync("/api/v1/adminUsers")).AssertOk()).EnumerateArray()
            .Single(a => a.GetProperty("loginName").GetString() == org.Username).GetProperty("id").GetInt64();

    /// <summary>The org's audit actions, oldest first, as the provider reads them.</summary>
    public static async Task<List<(string Action, string Outcome)>> AuditAsync(this KeygateApp app, long orgId)
    {
        var page = await (await app.Provider().GetAsync($"/provider/v1/organizations/{orgId}/audit?limit=100")).AssertOk();
        return page.GetProperty("items").EnumerateArray().Select(i => (i.GetProperty("action").GetString()!, i.GetProperty("outcome").GetString()!)).ToList();
    }

    public static StringContent Body(object o) => Json(o);
}
