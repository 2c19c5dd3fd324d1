using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>Contract B authentication: operator and service-provider bearer tokens (errors as contract C).</summary>
public sealed class ProviderAuthenticationTests(KeygateApp fixture) : ProviderApiTestBase(fixture), IClassFixture<KeygateApp>
{
    private static async Task AssertUnauthorized(HttpResponseMessage r, string? sentToken = null)
    {
        var text = await r.Content.ReadAsStringAsync();
        await AssertProblem(r, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Contains(r.Headers.WwwAuthenticate, h => h.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase));
        if (sentToken is { Length: >= 16 }) Assert.DoesNotContain(sentToken.Replace("Bearer ", ""), text);
    }

    /// <summary>Sends a request with a raw Authorization header value (or none), to a read and a write route.</summary>
    private async Task AssertRefusedWith(string? authorization)
    {
        using var c = app.Client();
        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
                 {
                     (HttpMethod.Get, "/provider/v1/organizations", null),
                     (HttpMethod.Post, "/provider/v1/serviceProviders", new { name = "intruder" }),
                     (HttpMethod.Post, "/provider/v1/organizations", new { name = "intruder", admin = new { username = Unique(), password = Password } }),
                 })
        {
            using var req = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
            if (authorization is not null) req.Headers.TryAddWithoutValidation("Authorization", authorization);
            await AssertUnauthorized(await c.SendAsync(req), authorization);
        }
    }

    [Fact]
    public async Task WithoutATokenABadBodyIs401NotAnAnswerAboutTheBody()
    {
        // The token is checked before the body is bound or validated: a caller without one learns nothing more.
        using var c = app.Client();
        foreach (var (body, type) in new[] { ("{not json", "application/json"), ("{\"name\":1}", "application/json"), ("name=x", "text/plain") })
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/provider/v1/serviceProviders")
            {
                Content = new StringContent(body, Encoding.UTF8, type),
            };
            req.Content.Headers.ContentType!.CharSet = null;
            await AssertUnauthorized(await c.SendAsync(req));
        }
        await AssertUnauthorized(await c.PutAsync("/provider/v1/organizations/999999/limits", new StringContent("[", Encoding.UTF8, "application/json")));
    }

    [Fact]
    public async Task RequestWithoutAuthorizationHeaderIs401ProblemWithBearerChallenge() =>
        await AssertRefusedWith(null);

    [Fact]
    public async Task RequestWithMalformedTokenIs401()
    {
        await AssertRefusedWith("Bearer not-a-token");
        await AssertRefusedWith("Bearer kgp_short");
        await AssertRefusedWith("Bearer " + app.OperatorToken + "x");
        await AssertRefusedWith("Bearer " + app.OperatorToken[..10] + "!" + app.OperatorToken[11..]);
        await AssertRefusedWith("Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("operator:" + app.OperatorToken)));
        await AssertRefusedWith(app.OperatorToken); // no scheme
        await AssertRefusedWith("Bearer ");
    }

    [Fact]
    public async Task RequestWithWellFormedTokenButBadChecksumIs401()
    {
        var t = app.OperatorToken;
        var lastChanged = t[..^1] + (t[^1] == 'A' ? 'B' : 'A');
        var bodyChanged = t[..10] + (t[10] == 'A' ? 'B' : 'A') + t[11..];
        await AssertRefusedWith("Bearer " + lastChanged);
        await AssertRefusedWith("Bearer " + bodyChanged);
    }

    [Fact]
    public async Task RequestWithWellFormedUnknownTokenIs401()
    {
        await AssertRefusedWith("Bearer " + ProviderTokens.Generate(ProviderTokens.OperatorPrefix));
        await AssertRefusedWith("Bearer " + ProviderTokens.Generate(ProviderTokens.ServiceProviderPrefix));
    }

    [Fact]
    public async Task CreatingAServiceProviderReturns201WithAKgsTokenThatWorks()
    {
        Assert.StartsWith("kgp_", app.OperatorToken);
        using var op = app.Provider();
        var name = "SP " + Guid.NewGuid().ToString("N")[..10];
        var r = await op.PostAsync("/provider/v1/serviceProviders", Json(new { name }));
        var body = await r.AssertOk(HttpStatusCode.Created);
        AssertProperties(body, "id", "name", "token");
        Assert.True(body.GetProperty("id").GetInt64() > 0);
        Assert.Equal(name, body.GetProperty("name").GetString());
        var token = body.GetProperty("token").GetString()!;
        Assert.StartsWith("kgs_", token);
        Assert.Matches("^kgs_[A-Za-z0-9]{43,}$", token); // at least 256 bits of base62

        using var sp = app.Provider(token);
        var list = await (await sp.GetAsync("/provider/v1/organizations")).AssertOk();
        Assert.Equal(0, list.GetArrayLength());
        await CreateNamedOrgAsync("Org of " + name, sp);

        var other = await CreateServiceProviderAsync();
        Assert.NotEqual(token, other.Token);
    }

    [Fact]
    public async Task ServiceProviderTokenIsNeverReturnedAgainAndStoredOnlyAsItsHash()
    {
        var sp = await CreateServiceProviderAsync();
        using var spClient = app.Provider(sp.Token);
        var org = await app.CreateOrgAsync(provider: spClient);
        using var op = app.Provider();

        foreach (var text in new[]
                 {
                     await (await op.GetAsync($"/provider/v1/organizations/{org.Id}")).Content.ReadAsStringAsync(),
                     await (await spClient.GetAsync($"/provider/v1/organizations/{org.Id}")).Content.ReadAsStringAsync(),
                     await (await op.GetAsync("/provider/v1/organizations")).Content.ReadAsStringAsync(),
                     await (await spClient.GetAsync("/provider/v1/organizations")).Content.ReadAsStringAsync(),
                     await (await op.GetAsync($"/provider/v1/organizations/{org.Id}/audit")).Content.ReadAsStringAsync(),
                     await (await op.GetAsync($"/provider/v1/serviceProviders/{sp.Id}")).Content.ReadAsStringAsync(),
                 })
        {
            Assert.DoesNotContain(sp.Token, text);
            Assert.DoesNotContain(sp.Token[4..20], text);
            Assert.DoesNotContain("\"token\"", text);
        }

        // Through the application's own database context (SQLite and PostgreSQL alike).
        var tokenBytes = Encoding.UTF8.GetBytes(sp.Token);
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var rows = await db.ProviderTokens.AsNoTracking().ToListAsync();
            var row = Assert.Single(rows, t => t.ServiceProviderId == sp.Id);
            Assert.Equal(SHA256.HashData(tokenBytes), row.Hash);
            foreach (var t in rows)
            {
                Assert.DoesNotContain(sp.Token, t.Name);
                Assert.True(t.Hash.AsSpan().IndexOf(tokenBytes) < 0);
            }
        }

        if (!KeygateApp.OnPostgres)
        {
            // And the raw SQLite file, opened read-only, never holds the token string in any ProviderTokens row.
            await using var c = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = app.DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
            }.ToString());
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT * FROM ProviderTokens";
            await using var reader = await cmd.ExecuteReaderAsync();
            var count = 0;
            while (await reader.ReadAsync())
            {
                count++;
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    if (reader.IsDBNull(i)) continue;
                    var value = reader.GetValue(i);
                    var bytes = value as byte[] ?? Encoding.UTF8.GetBytes(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!);
                    Assert.True(bytes.AsSpan().IndexOf(tokenBytes) < 0, $"column {reader.GetName(i)} holds the token");
                    Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(sp.Token[4..30])) < 0, $"column {reader.GetName(i)} holds part of the token");
                }
            }
            Assert.True(count >= 2); // the operator's and this service provider's
        }
    }
}
