using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Secrets;
using Keygate.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Keygate.Seed;

public static class Seeder
{
    private const int Batch = 10_000;

    public static async Task RunAsync(SeedOptions o)
    {
        // The server's own database setup, so the schema and pragmas are exactly what it migrates to.
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Keygate:Database:SqlitePath"] = Path.GetFullPath(o.Database),
        });
        builder.Services.AddKeygateDatabase(builder.Configuration, builder.Environment);
        await using var services = builder.Services.BuildServiceProvider();
        await DatabaseSetup.MigrateAsync(services, new KeygateOptions());
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        await connection.OpenAsync();
        // A benchmark database that is thrown away: no fsync per commit.
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous=OFF;";
            pragma.ExecuteNonQuery();
        }

        var vault = new KeyVault(Convert.FromBase64String(o.Kek));
        // One hash for every admin: hashing 100,000 passwords would take longer than the benchmark.
        var hash = new Passwords(Options.Create(new KeygateOptions { PasswordHashIterations = o.Iterations })).Hash("Bench-password-1");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var every = Math.Max(1, o.Orgs / Math.Max(1, o.Ids));
        var ids = new List<string>();
        // EF Core sends one INSERT per row to SQLite; prepared commands in large transactions are ~20x faster.
        using var rows = new SeedRows(connection);
        for (var start = 1; start <= o.Orgs; start += Batch)
        {
            using var tx = connection.BeginTransaction();
            rows.Enlist(tx);
            for (long i = start; i < start + Batch && i <= o.Orgs; i++)
            {
                var sessionId = SessionStore.NewId();
                if ((i - 1) % every == 0 && ids.Count < o.Ids) ids.Add(sessionId);
                rows.Insert(i, $"admin{i}@org{i}.bench.example", hash,
                    vault.Encrypt(KeyValues.Generate(KeyType.CLOUD_SERVICE), i, 1), SessionStore.Hash(sessionId), now);
            }
            tx.Commit();
        }
        if (o.IdsOut is not null) await File.WriteAllLinesAsync(o.IdsOut, ids);
    }
}
