using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using System.Security.Cryptography;

namespace Keygate.Hosting;

/// <summary>
/// First start of an empty database: an operator token (generated and shown once, or taken from
/// Keygate:Bootstrap:OperatorToken), and with the demo switch an organization "Acme Corp" ready to try.
/// Secrets go to a terminal or a private file (<see cref="FirstStartCredentials"/>), never to the log.
/// </summary>
public static class Bootstrap
{
    public static async Task RunAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<AppDbContext>();
        var o = sp.GetRequiredService<IOptions<KeygateOptions>>().Value;
        var clock = sp.GetRequiredService<TimeProvider>();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var keyFolder = Path.GetDirectoryName(KeyVault.KeyFilePath(o, sp.GetRequiredService<IHostEnvironment>()))!;
        var credentials = new FirstStartCredentials(keyFolder, clock);

        if (!await db.ProviderTokens.AnyAsync(t => t.ServiceProviderId == null))
        {
            var token = o.Bootstrap.OperatorToken;
            if (token is not null && !ProviderTokens.IsWellFormed(token))
                throw new InvalidOperationException("Keygate:Bootstrap:OperatorToken is not a well-formed kgp_ token.");
            token ??= ProviderTokens.Generate(ProviderTokens.OperatorPrefix);
            // Shown or stored before it is committed: a token nobody could see would lock the operator out for good.
            if (o.Bootstrap.OperatorToken is null) credentials.Reveal("Operator token", $"Operator token (shown once): {token}");
            db.ProviderTokens.Add(ProviderTokens.Row(token, null, "bootstrap operator", now));
            await db.SaveChangesAsync();
        }

        if (o.Demo.Enabled && !await db.Organizations.AnyAsync(x => x.Name == "Acme Corp"))
        {
            var password = "Demo-" + RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", 16);
            credentials.Reveal("Demo org admin", $"Demo org admin: {o.Demo.AdminUsername} / {password}");
            var org = new Organization { Name = "Acme Corp", BaseUrl = o.DefaultBaseUrl, CreatedAtMs = now };
            org.Roles.AddRange(Role.BuiltIns());
            db.Organizations.Add(org);
            await db.SaveChangesAsync();
            db.Accounts.Add(new Account
            {
                Kind = AccountKind.OrgAdmin, Username = o.Demo.AdminUsername, NormalizedUsername = Account.Normalize(o.Demo.AdminUsername),
                PasswordHash = sp.GetRequiredService<Passwords>().Hash(password), Role = org.Roles.First(r => r.Name == AdminRights.SuperAdminName),
                OrganizationId = org.Id, CreatedAtMs = now, PasswordChangedAtMs = now,
            });
            await db.SaveChangesAsync();
            var lifecycle = sp.GetRequiredService<KeyLifecycle>();
            var seeded = await lifecycle.SetSubscriptionAsync(new Actor(ActorKind.Operator, 0, o.OperatorName, "demo"), org.Id, true, null);
            if (seeded.Error is { } e) throw new InvalidOperationException($"Demo seeding failed: {e.Code}");
        }

        credentials.Announce();
    }

    /// <summary>Where to go once the server listens.</summary>
    public static void PrintWelcome(WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var url = app.Urls.FirstOrDefault() ?? "http://localhost:5080";
            // One write, so that log lines written meanwhile do not land in the middle.
            var lines = new System.Text.StringBuilder()
                .AppendLine($"Keygate is listening on {url}")
                .AppendLine($"  Portal:        {url}/login   (org admins; provider staff land on {url}/console)")
                .AppendLine($"  API reference: {url}/scalar")
                .AppendLine($"  Legacy API:    {url}/api/v1   Provider API: {url}/provider/v1");
            if (app.Services.GetService<DemoUpstream>()?.Url is { } sample)
                lines.AppendLine($"  Gateway:       {url}/api/v1/ecgroup, /provUrl, … → the sample upstream on {sample} (demo)");
            Console.Write(lines.ToString());
        });
    }
}
