using System.Net;
using System.Text.RegularExpressions;

namespace Keygate.Tests;

/// <summary>
/// The README's one command (contract A7): the real server with --demo serves the sample upstream behind its gateway,
/// so the demo admin's key unlocks real calls with nothing else configured.
/// </summary>
public sealed class DemoTests
{
    [Fact]
    public async Task TheDemoServesTheSampleUpstreamBehindTheGateway()
    {
        Assert.SkipWhen(KeygateApp.OnPostgres, "The demo runs on its own SQLite file; the SQLite pass runs it.");
        var root = Directory.CreateTempSubdirectory("keygate-demo-").FullName;
        try
        {
            await using var node = await NodeProcess.StartAsync(new Dictionary<string, string>(), arguments: ["--demo", "--contentRoot", root]);
            // The gateway line comes once the sample listens and its route is in place.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!node.Output.Any(l => l.Contains("Gateway:", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
                await Task.Delay(100, TestContext.Current.CancellationToken);
            var gatewayLine = node.Output.Single(l => l.Contains("Gateway:", StringComparison.Ordinal));
            Assert.Contains($"{node.Address}api/v1/ecgroup", gatewayLine);
            Assert.Matches(@"sample upstream on http://127\.0\.0\.1:\d+", gatewayLine);

            var credentials = await File.ReadAllTextAsync(Path.Combine(root, "secrets", "first-start-credentials.txt"), TestContext.Current.CancellationToken);
            var password = Regex.Match(credentials, "Demo org admin: admin@acme.example / (Demo-[A-Za-z0-9]+)").Groups[1].Value;
            using var portal = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = node.Address };
            await portal.PortalLoginAsync("admin@acme.example", password);
            var keyPage = await portal.GetStringAsync(PortalSession.KeyPage);
            var key = Scenario.KeyValueOnPage(keyPage)!;
            // The page names the address the gateway serves, with its copy button.
            Assert.Matches("data-copy-value=\"http://localhost:5080/api/v1\"[^>]*>http://localhost:5080/api/v1</code>\\s*<button type=\"button\" class=\"copy\" data-copy", keyPage);

            using var api = new HttpClient { BaseAddress = node.Address };
            var login = await api.LoginAsync("admin@acme.example", password, key, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await login.AssertOk();
            api.DefaultRequestHeaders.Add("Cookie", $"JSESSIONID={Scenario.SessionIdOf(login)}");

            Assert.Equal(2, (await (await api.GetAsync("/api/v1/ecgroup")).AssertOk()).GetArrayLength());
            var created = await (await api.PostAsync("/api/v1/provUrl", Scenario.Json(new { name = "Branch 12", desc = "through the demo" }))).AssertOk();
            var read = await (await api.GetAsync($"/api/v1/provUrl/{created.GetProperty("id").GetInt64()}")).AssertOk();
            Assert.Equal("through the demo", read.GetProperty("desc").GetString());

            Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync("/api/v1/auth")).StatusCode);
            await (await api.GetAsync("/api/v1/ecgroup")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
