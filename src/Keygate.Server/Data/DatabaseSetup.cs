using Keygate.Kernel;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using System.Data.Common;

namespace Keygate.Data;

public static class DatabaseSetup
{
    private static readonly SqliteBusyTimeout BusyTimeout = new(5_000);

    public static bool IsPostgres(KeygateOptions o) =>
        string.Equals(o.Database.Provider, "Postgres", StringComparison.OrdinalIgnoreCase) ||
        string.Equals(o.Database.Provider, "PostgreSQL", StringComparison.OrdinalIgnoreCase);

    /// <summary>Registers AppDbContext as the provider's subclass, each with its own migration set.</summary>
    public static IServiceCollection AddKeygateDatabase(this IServiceCollection services, IConfiguration config, IHostEnvironment env)
    {
        var o = config.GetSection("Keygate").Get<KeygateOptions>() ?? new();
        if (IsPostgres(o))
        {
            var cs = config.GetConnectionString("Keygate")
                ?? throw new InvalidOperationException("Keygate:Database:Provider=Postgres needs ConnectionStrings:Keygate.");
            services.AddDbContext<PostgresDbContext>(b => b.UseNpgsql(cs));
            services.AddScoped<AppDbContext>(sp => sp.GetRequiredService<PostgresDbContext>());
        }
        else
        {
            var path = Path.GetFullPath(o.Database.SqlitePath, env.ContentRootPath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var cs = new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 30, Pooling = true }.ToString();
            services.AddDbContext<SqliteDbContext>(b => b.UseSqlite(cs).AddInterceptors(BusyTimeout));
            services.AddScoped<AppDbContext>(sp => sp.GetRequiredService<SqliteDbContext>());
        }
        return services;
    }

    public static async Task MigrateAsync(IServiceProvider services, KeygateOptions o)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        if (!IsPostgres(o))
        {
            // WAL lets readers go on while one writer commits; it is a property of the file, set once.
            await db.Database.OpenConnectionAsync();
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
            await db.Database.CloseConnectionAsync();
        }
        if (o.Database.MigrateOnStart) await db.Database.MigrateAsync();
    }
}
