using System.Net;
using System.Text.Json;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B v3 staff: list, disable, new password, delete; console sessions end at their next request.</summary>
public sealed class StaffTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    private async Task<(long Id, string Username)> CreateStaffAsync(HttpClient c)
    {
        var username = Unique("staff");
        var body = await (await c.PostAsync("/provider/v1/staff", Json(new { username, password = Password }))).AssertOk(HttpStatusCode.Created);
        return (body.GetProperty("id").GetInt64(), username);
    }

    private static async Task<HttpStatusCode> ConsoleStatusAsync(HttpClient console) => (await console.GetAsync("/console")).StatusCode;

    [Fact]
    public async Task StaffAreListedWithoutPasswordsAndAServiceProviderSeesOnlyItsOwn()
    {
        using var op = app.Provider();
        var mine = await CreateStaffAsync(op);
        var sp = await CreateServiceProviderAsync();
        using var spc = app.Provider(sp.Token);
        var theirs = await CreateStaffAsync(spc);

        var all = await (await op.GetAsync("/provider/v1/staff")).AssertOk();
        var row = all.EnumerateArray().Single(s => s.GetProperty("id").GetInt64() == mine.Id);
        AssertProperties(row, "id", "username", "serviceProviderId", "disabled", "createdAt");
        Assert.Equal(mine.Username, row.GetProperty("username").GetString());
        Assert.False(row.GetProperty("disabled").GetBoolean());
        Assert.Contains(all.EnumerateArray(), s => s.GetProperty("id").GetInt64() == theirs.Id);
        Assert.DoesNotContain(Password, all.GetRawText());

        var own = await (await spc.GetAsync("/provider/v1/staff")).AssertOk();
        Assert.Equal([theirs.Id], own.EnumerateArray().Select(s => s.GetProperty("id").GetInt64()).ToArray());
        await AssertProblem(await spc.SendAsync(Patch($"/provider/v1/staff/{mine.Id}", new { disabled = true })), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await spc.DeleteAsync($"/provider/v1/staff/{mine.Id}"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await AssertProblem(await op.DeleteAsync("/provider/v1/staff/abc"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        // The refused requests changed nothing.
        Assert.False((await (await op.GetAsync("/provider/v1/staff")).AssertOk()).EnumerateArray()
            .Single(s => s.GetProperty("id").GetInt64() == mine.Id).GetProperty("disabled").GetBoolean());
    }

    [Fact]
    public async Task DisablingAStaffLoginEndsItsConsoleSessionAtTheNextRequestAndRefusesItsLogin()
    {
        using var op = app.Provider();
        var staff = await CreateStaffAsync(op);
        using var console = await app.PortalLoginAsync(staff.Username, Password);
        Assert.Equal(HttpStatusCode.OK, await ConsoleStatusAsync(console));

        var patched = await (await op.SendAsync(Patch($"/provider/v1/staff/{staff.Id}", new { disabled = true }))).AssertOk();
        Assert.True(patched.GetProperty("disabled").GetBoolean());
        Assert.Equal(HttpStatusCode.Redirect, await ConsoleStatusAsync(console));
        using var again = app.NewClient(handleCookies: true);
        var login = await again.GetStringAsync("/login");
        var r = await again.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = staff.Username, ["password"] = Password, ["__RequestVerificationToken"] = PortalSession.AntiforgeryToken(login),
        }));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("This login is disabled.", await r.Content.ReadAsStringAsync());

        await (await op.SendAsync(Patch($"/provider/v1/staff/{staff.Id}", new { disabled = false }))).AssertOk();
        using var back = await app.PortalLoginAsync(staff.Username, Password);
        Assert.Equal(HttpStatusCode.OK, await ConsoleStatusAsync(back));
    }

    [Fact]
    public async Task ANewPasswordEndsTheOldConsoleSessionsAndTheNewOneWorks()
    {
        using var op = app.Provider();
        var staff = await CreateStaffAsync(op);
        using var console = await app.PortalLoginAsync(staff.Username, Password);
        Assert.Equal(HttpStatusCode.OK, await ConsoleStatusAsync(console));
        await AssertInvalid(await op.SendAsync(Patch($"/provider/v1/staff/{staff.Id}", new { password = "short" })), "password");
        Assert.Equal(HttpStatusCode.OK, await ConsoleStatusAsync(console));
        await (await op.SendAsync(Patch($"/provider/v1/staff/{staff.Id}", new { password = "a brand new passphrase" }))).AssertOk();
        Assert.Equal(HttpStatusCode.Redirect, await ConsoleStatusAsync(console));
        using var fresh = await app.PortalLoginAsync(staff.Username, "a brand new passphrase");
        Assert.Equal(HttpStatusCode.OK, await ConsoleStatusAsync(fresh));
        await AssertInvalid(await op.SendAsync(Patch($"/provider/v1/staff/{staff.Id}", new { disabled = "yes" })));
        await AssertInvalid(await op.SendAsync(Patch($"/provider/v1/staff/{staff.Id}", new { role = "admin" })));
    }

    [Fact]
    public async Task DeletingAStaffLoginEndsItsSessionsAndFreesTheName()
    {
        using var op = app.Provider();
        var staff = await CreateStaffAsync(op);
        using var console = await app.PortalLoginAsync(staff.Username, Password);
        Assert.Equal(HttpStatusCode.NoContent, (await op.DeleteAsync($"/provider/v1/staff/{staff.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, await ConsoleStatusAsync(console));
        await AssertProblem(await op.DeleteAsync($"/provider/v1/staff/{staff.Id}"), HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await op.PostAsync("/provider/v1/staff", Json(new { username = staff.Username, password = Password }))).AssertOk(HttpStatusCode.Created);
        await using var db = app.OpenDatabase();
        Assert.Single(db.AuditEvents.Where(e => e.Action == "staff.delete" && e.Detail == $"username={staff.Username}"));
    }
}
