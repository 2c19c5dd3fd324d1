using Npgsql;

namespace Keygate.Tests;

/// <summary>
/// A database of its own for Keygate node processes: a SQLite file in a folder of its own, or a fresh
/// PostgreSQL database when KEYGATE_TEST_POSTGRES is set (dropped at the end). It holds what every node on it
/// shares — the key-encryption key and the operator token — so a node started again after a kill is the same
/// installation.
/// </summary>
public sealed class NodeDatabase : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("keygate-node-").FullName;
    private readonly string _kek = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    private readonly string? _postgresDatabase;

    public string OperatorToken { get; } = ProviderTokens.Generate(ProviderTokens.OperatorPrefix);
    public KeyVault Vault => new(Convert.FromBase64String(_kek));
    private string SqlitePath => Path.Combine(_folder, "keygate.db");

    public NodeDatabase()
    {
        if (!KeygateApp.OnPostgres) return;
        _postgresDatabase = "kg_node_" + Guid.NewGuid().ToString("N")[..16];
        using var c = new NpgsqlConnection(KeygateApp.PostgresServer);
        c.Open();
        using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{_postgresDatabase}\"", c);
        cmd.ExecuteNonQuery();
    }

    /// <summary>The configuration of a node on this database, as environment variables.</summary>
    public Dictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>
        {
            ["Keygate__Secrets__KeyEncryptionKey"] = _kek,
            ["Keygate__Bootstrap__OperatorToken"] = OperatorToken,
            ["Keygate__PasswordHashIterations"] = "1000",
            ["Keygate__Database__SqlitePath"] = SqlitePath,
        };
        if (_postgresDatabase is not null)
        {
            env["Keygate__Database__Provider"] = "Postgres";
            env["ConnectionStrings__Keygate"] = new NpgsqlConnectionStringBuilder(KeygateApp.PostgresServer) { Database = _postgresDatabase }.ToString();
        }
        return env;
    }

    public Task<NodeProcess> StartNodeAsync() => NodeProcess.StartAsync(Environment());

    public AppDbContext Open() => KeygateApp.OpenDatabase(_postgresDatabase, SqlitePath);

    public async ValueTask DisposeAsync()
    {
        if (_postgresDatabase is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var c = new NpgsqlConnection(KeygateApp.PostgresServer);
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_postgresDatabase}\" WITH (FORCE)", c);
            await cmd.ExecuteNonQueryAsync();
        }
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
