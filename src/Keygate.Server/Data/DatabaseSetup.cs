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
            var path = SqlitePath(o, env);
            PrivateFiles.CreateFolder(Path.GetDirectoryName(path)!);
            // Created empty (a valid empty database) and 0600 before SQLite opens it: SQLite gives its -wal and -shm
            // files the database file's mode, so none of the three is ever readable by others.
            if (!File.Exists(path)) PrivateFiles.Open(path, FileMode.CreateNew).Dispose();
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
        if (!IsPostgres(o))
        {
            // A database made by an older version, or copied in, may be readable by others: it holds password
            // hashes and encrypted keys. Its -wal and -shm made later take its mode; those there now are fixed too.
            var path = SqlitePath(o, scope.ServiceProvider.GetRequiredService<IHostEnvironment>());
            foreach (var suffix in new[] { "", "-wal", "-shm" }) PrivateFiles.Restrict(path + suffix);
        }
    }

    private static string SqlitePath(KeygateOptions o, IHostEnvironment env) => Path.GetFullPath(o.Database.SqlitePath, env.ContentRootPath);
}
