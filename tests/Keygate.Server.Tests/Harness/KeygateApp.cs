using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Keygate.Tests;

/// <summary>
/// A real Keygate host over HTTP: a fresh SQLite file per app (or a fresh PostgreSQL database when
/// KEYGATE_TEST_POSTGRES holds a server connection string), a fake clock, and every log line captured so
/// tests can prove no secret reaches a log.
/// </summary>
public sealed class KeygateApp : WebApplicationFactory<Program>
{
    public static readonly string? PostgresServer = Environment.GetEnvironmentVariable("KEYGATE_TEST_POSTGRES");
    public static bool OnPostgres => !string.IsNullOrEmpty(PostgresServer);
    /// <summary>A Redis server ("127.0.0.1:6379") for the cluster tests; they need PostgreSQL as well.</summary>
    public static readonly string? RedisServer = Environment.GetEnvironmentVariable("KEYGATE_TEST_REDIS");
    public static bool ClusterReady => OnPostgres && !string.IsNullOrEmpty(RedisServer);
    public const string ClusterSkipReason = "Cluster tests need KEYGATE_TEST_POSTGRES and KEYGATE_TEST_REDIS; the PostgreSQL pass of .ci/run has both.";

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero));
    public string Folder { get; } = Directory.CreateTempSubdirectory("keygate-test-").FullName;
    public string DatabasePath => Path.Combine(Folder, "data", "keygate.db");
    public string OperatorToken { get; } = ProviderTokens.Generate(ProviderTokens.OperatorPrefix);
    public ConcurrentQueue<string> Logs { get; } = new();
    public string? PostgresDatabase { get; }
    private readonly Dictionary<string, string?> _settings;
    private readonly string _kek = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public KeygateApp() : this(null) { }

    /// <summary>A second host on the first one's database, KEK and token: a restart.</summary>
    public static KeygateApp Reopen(KeygateApp previous, Dictionary<string, string?>? settings = null)
    {
        previous.KeepDatabase();
        var app = new KeygateApp(settings, previous.Folder, previous.PostgresDatabase, previous.Kek, previous.OperatorToken);
        app.Clock.SetUtcNow(previous.Clock.GetUtcNow());
        return app;
    }

    /// <summary>An app with extra configuration (for the tests that change defaults).</summary>
    public static KeygateApp With(Dictionary<string, string?> settings) => new(settings);

    /// <summary>
    /// A PostgreSQL app whose connections go through a loopback port (a <see cref="TcpProxy"/> in front of the
    /// server), with short connect and command timeouts so that an outage answers within seconds. The database
    /// itself is created through the direct server, as for any app. TLS is off on this loopback hop so that the proxy
    /// can see the protocol (<see cref="TcpProxy.CutWhenCommitting"/>).
    /// </summary>
    public static KeygateApp ThroughProxy(int port)
    {
        var app = new KeygateApp();
        app._settings["ConnectionStrings:Keygate"] = new NpgsqlConnectionStringBuilder(app._settings["ConnectionStrings:Keygate"])
        {
            Host = "127.0.0.1", Port = port, Timeout = 2, CommandTimeout = 5, SslMode = SslMode.Disable,
        }.ToString();
        return app;
    }

    /// <summary>
    /// The first node of a cluster: PostgreSQL plus Redis, under a Redis key prefix of its own so parallel
    /// tests sharing one Redis server never see each other. Add nodes with <see cref="Peer"/>.
    /// </summary>
    public static KeygateApp ClusterNode(Dictionary<string, string?>? settings = null, string? redis = null)
    {
        Assert.SkipUnless(ClusterReady, ClusterSkipReason);
        var all = new Dictionary<string, string?>
        {
            ["Keygate:Redis:Configuration"] = redis ?? RedisServer,
            ["Keygate:Redis:Prefix"] = "kgt" + Guid.NewGuid().ToString("N")[..12] + ":",
        };
        foreach (var (k, v) in settings ?? []) all[k] = v;
        return new KeygateApp(all);
    }

    /// <summary>Another node on the same database, Redis prefix, KEK, operator token and clock.</summary>
    public static KeygateApp Peer(KeygateApp first, Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(first._settings);
        foreach (var (k, v) in settings ?? []) all[k] = v;
        var peer = new KeygateApp(all, null, first.PostgresDatabase, first.Kek, first.OperatorToken, first.Clock);
        peer._ownsDatabase = false;
        return peer;
    }

    private KeygateApp(Dictionary<string, string?>? settings, string? reuseFolder = null, string? reusePostgresDatabase = null,
        string? reuseKek = null, string? reuseOperatorToken = null, FakeTimeProvider? clock = null)
    {
        if (clock is not null) Clock = clock;
        if (reuseFolder is not null) Folder = reuseFolder;
        if (reuseKek is not null) _kek = reuseKek;
        if (reuseOperatorToken is not null) OperatorToken = reuseOperatorToken;
        _settings = new()
        {
            ["Keygate:Database:SqlitePath"] = DatabasePath,
            ["Keygate:Secrets:KeyEncryptionKey"] = _kek,
            ["Keygate:Bootstrap:OperatorToken"] = OperatorToken,
            // Hashing stays PBKDF2 but cheaper, so hundreds of logins fit in a test run.
            ["Keygate:PasswordHashIterations"] = "1000",
            ["Keygate:DefaultBaseUrl"] = "https://api.example.test/api/v1",
        };
        if (OnPostgres)
        {
            PostgresDatabase = reusePostgresDatabase ?? "kg_test_" + Guid.NewGuid().ToString("N")[..16];
            if (reusePostgresDatabase is null)
            {
                using var c = new NpgsqlConnection(PostgresServer);
                c.Open();
                using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{PostgresDatabase}\"", c);
                cmd.ExecuteNonQuery();
            }
            _settings["Keygate:Database:Provider"] = "Postgres";
            _settings["ConnectionStrings:Keygate"] = new NpgsqlConnectionStringBuilder(PostgresServer) { Database = PostgresDatabase }.ToString();
        }
        foreach (var (k, v) in settings ?? []) _settings[k] = v;
    }

    public string Kek => _kek;

    /// <summary>A direct connection to this app's database (never through a proxy), to check what was committed.</summary>
    public AppDbContext OpenDatabase() => OpenDatabase(PostgresDatabase, DatabasePath);

    /// <summary>A PostgreSQL database on the test server when one is named, else the SQLite file.</summary>
    public static AppDbContext OpenDatabase(string? postgresDatabase, string sqlitePath) => postgresDatabase is null
        ? new SqliteDbContext(new DbContextOptionsBuilder<SqliteDbContext>().UseSqlite($"Data Source={sqlitePath};Pooling=false").Options)
        : new PostgresDbContext(new DbContextOptionsBuilder<PostgresDbContext>()
            .UseNpgsql(new NpgsqlConnectionStringBuilder(PostgresServer) { Database = postgresDatabase }.ToString()).Options);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseContentRoot(Folder);
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
        builder.ConfigureLogging(l =>
        {
            l.ClearProviders(); // the console would flood test output; every line is still captured below
            l.SetMinimumLevel(LogLevel.Debug);
            l.AddProvider(new CapturingLoggerProvider(Logs));
        });
        builder.ConfigureTestServices(s =>
        {
            s.AddSingleton<TimeProvider>(Clock);
            s.AddSingleton<IStartupFilter, InProcessCallerIsLocal>();
        });
    }

    /// <summary>
    /// The in-memory server gives requests no client address; its callers run in this process, so they are loopback
    /// callers (as on a real socket from this machine), which is what loopback-only endpoints such as /metrics need.
    /// </summary>
    private sealed class InProcessCallerIsLocal : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((ctx, nextMiddleware) =>
            {
                ctx.Connection.RemoteIpAddress ??= System.Net.IPAddress.Loopback;
                return nextMiddleware(ctx);
            });
            next(app);
        };
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>A client that keeps no cookies, so each test says exactly which session it uses.</summary>
    public HttpClient Client() => NewClient(handleCookies: false);

    /// <summary>
    /// A client that never follows redirects. Over Kestrel the factory's client options are not applied to
    /// the socket handler, so the handler is built here.
    /// </summary>
    public HttpClient NewClient(bool handleCookies) => _kestrelAddress is null
        ? CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = handleCookies, AllowAutoRedirect = false })
        : new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = handleCookies }) { BaseAddress = _kestrelAddress };

    private Uri? _kestrelAddress;

    public Uri BaseAddress => _kestrelAddress ?? new Uri("http://localhost");

    /// <summary>
    /// Serves over a real socket (for client addresses, proxies and browsers) instead of the in-memory server, on
    /// loopback, or with <paramref name="allInterfaces"/> on every address, so a test can also call from a non-loopback one.
    /// </summary>
    public Uri StartKestrel(int port = 0, bool allInterfaces = false)
    {
        if (allInterfaces) UseKestrel(o => o.ListenAnyIP(port));
        else UseKestrel(port);
        StartServer();
        var addresses = Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses;
        _kestrelAddress = new Uri(addresses.First().Replace("[::]", "127.0.0.1").Replace("0.0.0.0", "127.0.0.1"));
        return _kestrelAddress;
    }

    public HttpClient Provider(string? token = null)
    {
        var c = Client();
        c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? OperatorToken);
        return c;
    }

    public long NowMs => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && PostgresDatabase is not null && _ownsDatabase)
        {
            NpgsqlConnection.ClearAllPools();
            using var c = new NpgsqlConnection(PostgresServer);
            c.Open();
            using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{PostgresDatabase}\" WITH (FORCE)", c);
            cmd.ExecuteNonQuery();
        }
    }

    private bool _ownsDatabase = true;

    /// <summary>Keeps the database after this host is disposed (restart tests build a second host on it).</summary>
    public void KeepDatabase() => _ownsDatabase = false;
}

internal sealed class CapturingLoggerProvider(ConcurrentQueue<string> sink) : ILoggerProvider
{
    public ILogger CreateLogger(string category) => new Logger(category, sink);
    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel level) => true;
        public void Log<TState>(LogLevel level, EventId id, TState state, Exception? ex, Func<TState, Exception?, string> format) =>
            sink.Enqueue($"{level} {category}: {format(state, ex)} {ex}");
    }
}
