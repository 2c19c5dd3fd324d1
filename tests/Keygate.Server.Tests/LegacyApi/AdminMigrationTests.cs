using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// A database made by the schema before roles existed (admins with the SUPER_ADMIN / READ_ONLY column) upgrades through
/// AdminsAndRoles, and every admin keeps exactly their rights (issue 15's migration test). SQLite, or PostgreSQL when
/// KEYGATE_TEST_POSTGRES is set.
/// </summary>
public sealed class AdminMigrationTests
{
    [Fact]
    public async Task AdminsOfTheSchemaBeforeRolesKeepExactlyTheirRightsAfterTheUpgrade()
    {
        using var app = new KeygateApp();
        var (super, readOnly) = (Unique("super"), Unique("readonly"));
        long orgId;
        Directory.CreateDirectory(Path.GetDirectoryName(app.DatabasePath)!);
        await using (var db = app.OpenDatabase())
        {
            await db.GetService<IMigrator>().MigrateAsync("GatewaySigningKeys");
            var now = app.NowMs;
            var t = KeygateApp.OnPostgres ? "TRUE" : "1";
            var f = KeygateApp.OnPostgres ? "FALSE" : "0";
            // Only numbers and fixed text go into this statement (the schema of then, which today's model cannot write).
            var insertOrg = $"""
                INSERT INTO "Organizations" ("Name", "BaseUrl", "SubscriptionEnabled", "EndSessionsOnKeyChange", "StateVersion", "SessionsEndedVersion",
                    "StateChangedAtMs", "CreatedAtMs", "Limits_CallThreshold", "Limits_ThresholdWindowSeconds", "Limits_WarnAtPercent",
                    "Limits_LightPerSecond", "Limits_LightPerHour", "Limits_MediumPerSecond", "Limits_MediumPerHour", "Limits_HeavyPerMinute",
                    "Limits_HeavyPerHour", "Limits_SandboxDailyQuota")
                VALUES ('Old Org', 'https://api.example.test/api/v1', {f}, {f}, 1, 0, {now}, {now}, 1000000000, 86400, 80,
                    100000, 100000000, 100000, 100000000, 100000, 100000000, 100)
                """;
            await db.Database.ExecuteSqlRawAsync(insertOrg);
            orgId = await db.Organizations.Select(o => o.Id).SingleAsync();
            var hash = new PasswordHasher<object>().HashPassword(null!, Password);
            foreach (var (name, role) in new[] { (super, "SUPER_ADMIN"), (readOnly, "READ_ONLY") })
                await db.Database.ExecuteSqlRawAsync(
                    """INSERT INTO "Accounts" ("Kind", "Username", "NormalizedUsername", "PasswordHash", "Role", "OrganizationId", "CreatedAtMs") VALUES ('OrgAdmin', {0}, {1}, {2}, {3}, {4}, {5})""",
                    name, name.ToUpperInvariant(), hash, role, orgId, now);
        }

        // The host migrates the rest on start; the provider turns the subscription on (it provisions the key).
        await (await app.Provider().PutAsync($"/provider/v1/organizations/{orgId}/subscription", Json(new { enabled = true }))).AssertOk();
        var org = new TestOrg(orgId, super, Password, 0);
        using var s = await app.SessionAsync(org);
        using var ro = await app.SessionAsync(org with { Username = readOnly });

        var admins = (await (await s.GetAsync("/api/v1/adminUsers")).AssertOk()).EnumerateArray()
            .ToDictionary(a => a.GetProperty("loginName").GetString()!, a => a.GetProperty("role").GetProperty("name").GetString());
        Assert.Equal("Super Admin", admins[super]);
        Assert.Equal("Read Only Admin", admins[readOnly]);
        var roles = (await (await s.GetAsync("/api/v1/adminRoles")).AssertOk()).EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Equal(["Super Admin", "Read Only Admin"], roles);

        // The super admin changes keys and admins; the read-only admin reads both and changes neither.
        var keyId = (await (await s.GetAsync("/api/v1/apiKeys")).AssertOk())[0].GetProperty("id").GetInt64();
        await (await ro.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await ro.GetAsync("/api/v1/adminUsers")).AssertOk();
        await (await ro.PostAsync($"/api/v1/apiKeys/{keyId}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await ro.PostAsync("/api/v1/adminRoles", Json(new { name = "Mine" }))).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await s.PostAsync($"/api/v1/apiKeys/{keyId}/regenerate", null)).AssertOk();
        await (await s.PostAsync("/api/v1/adminRoles", Json(new { name = "Theirs" }))).AssertOk(HttpStatusCode.Created);
        // And the provider API's names still name the built-ins.
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{orgId}/admins", Json(new { username = Unique("p"), password = Password, role = "READ_ONLY" })))
            .AssertOk(HttpStatusCode.Created);
    }
}
