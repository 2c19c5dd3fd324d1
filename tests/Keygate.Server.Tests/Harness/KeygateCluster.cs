using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Npgsql;
using StackExchange.Redis;

namespace Keygate.Tests;

/// <summary>
/// Keygate deployed as docs/deployment.md says, on loopback: a fresh PostgreSQL database; node A started first
/// (it migrates and installs the operator token), then node B with MigrateOnStart off; one shared KEK, one
/// Redis prefix of this fixture's own, 127.0.0.1 (nginx) as the known proxy; nginx in front of both. Both nodes
/// forward the /api/v1 paths they do not answer to one sample upstream (contract A7), which trusts node A's JWKS.
/// Nothing starts unless the cluster tests can run; then the database and the Redis keys go at the end.
/// </summary>
public class KeygateCluster : IAsyncLifetime
{
    public static bool CanRun => KeygateApp.ClusterReady && NginxProcess.Binary is not null;
    public static string SkipReason => KeygateApp.ClusterReady ? NginxProcess.SkipReason : KeygateApp.ClusterSkipReason;

    public string OperatorToken { get; } = ProviderTokens.Generate(ProviderTokens.OperatorPrefix);
    private readonly string _database = "kg_cluster_" + Guid.NewGuid().ToString("N")[..16];
    private readonly string _redisPrefix = "kgcluster" + Guid.NewGuid().ToString("N")[..12] + ":";
    private NodeProcess? _a, _b;
    private NginxProcess? _nginx;
    private SampleUpstreamHost? _upstream;
    private bool _created;
    private Dictionary<string, string>? _nodeSettings;

    /// <summary>Settings of a variant's nodes, on top of the usual ones.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    public NodeProcess A => _a ?? throw new InvalidOperationException("The cluster did not start.");
    public NodeProcess B => _b ?? throw new InvalidOperationException("The cluster did not start.");
    public NginxProcess Nginx => _nginx ?? throw new InvalidOperationException("The cluster did not start.");
    /// <summary>The sample upstream both nodes' gateway forwards to; its ApiCalls counts what reached it.</summary>
    public SampleUpstreamHost Upstream => _upstream ?? throw new InvalidOperationException("The cluster did not start.");

    public async ValueTask InitializeAsync()
    {
        if (!CanRun) return;
        await using (var c = new NpgsqlConnection(KeygateApp.PostgresServer))
        {
            await c.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{_database}\"", c);
            await create.ExecuteNonQueryAsync();
        }
        _created = true;
        var node = new Dictionary<string, string>
        {
            ["Keygate__Database__Provider"] = "Postgres",
            ["ConnectionStrings__Keygate"] = new NpgsqlConnectionStringBuilder(KeygateApp.PostgresServer!) { Database = _database }.ToString(),
            ["Keygate__Redis__Configuration"] = KeygateApp.RedisServer!,
            ["Keygate__Redis__Prefix"] = _redisPrefix,
            ["Keygate__Secrets__KeyEncryptionKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Keygate__Bootstrap__OperatorToken"] = OperatorToken,
            ["Keygate__KnownProxies__0"] = "127.0.0.1",
            // Cheaper hashing, and no login throttling: the test logs in thousands of times, old keys on purpose.
            ["Keygate__PasswordHashIterations"] = "1000",
            ["Keygate__LoginThrottle__FailuresPerUsername"] = "100000000",
            ["Keygate__LoginThrottle__FailuresPerAddress"] = "100000000",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (k, v) in Settings) node[k] = v;
        try
        {
            // Node A's port first: the upstream must know where the JWKS is, and the nodes where the upstream is.
            var portA = NodeProcess.FreePort();
            _upstream = await SampleUpstreamHost.StartBehindAsync(GatewayHost.Issuer, $"http://127.0.0.1:{portA}/.well-known/jwks.json");
            node["Keygate__Gateway__Issuer"] = GatewayHost.Issuer;
            node["Keygate__Gateway__Routes__api__ClusterId"] = "sample";
            node["Keygate__Gateway__Routes__api__Match__Path"] = "/api/v1/{**catch-all}";
            node["Keygate__Gateway__Clusters__sample__Destinations__one__Address"] = _upstream.Url;
            _a = await NodeProcess.StartAsync(node, portA);
            node["Keygate__Database__MigrateOnStart"] = "false";
            _b = await NodeProcess.StartAsync(node);
            _nodeSettings = node;
            _nginx = await NginxProcess.StartAsync([_a.Port, _b.Port]);
        }
        catch
        {
            // A fixture that failed to start may never be disposed: stop what did start, and drop the database.
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>A client of one address that keeps no cookies and follows no redirects, optionally from another loopback address.</summary>
    public static HttpClient Client(Uri address, string? bearer = null, IPAddress? from = null, bool cookies = false)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = cookies };
        if (from is not null)
            handler.ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(from.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                socket.Bind(new IPEndPoint(from, 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            };
        var client = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        if (bearer is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    public HttpClient Provider(Uri address) => Client(address, OperatorToken);

    /// <summary>One more node of the cluster (not behind nginx), for a test that kills it; the caller disposes it.</summary>
    public Task<NodeProcess> StartNodeAsync() =>
        NodeProcess.StartAsync(_nodeSettings ?? throw new InvalidOperationException("The cluster did not start."));

    /// <summary>The last lines every process wrote, for a failure message.</summary>
    public string Logs() =>
        $"--- node A\n{string.Join('\n', A.Output.TakeLast(20))}\n--- node B\n{string.Join('\n', B.Output.TakeLast(20))}\n--- nginx\n{Nginx.ErrorLog()}";

    /// <summary>Stops what started and removes what was created; safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_created) return;
        _created = false;
        if (_nginx is not null) await _nginx.DisposeAsync();
        if (_b is not null) await _b.DisposeAsync();
        if (_a is not null) await _a.DisposeAsync();
        if (_upstream is not null) await _upstream.DisposeAsync();
        (_nginx, _b, _a, _upstream) = (null, null, null, null);
        await using (var c = new NpgsqlConnection(KeygateApp.PostgresServer))
        {
            await c.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", c);
            await drop.ExecuteNonQueryAsync();
        }
        await using var redis = await ConnectionMultiplexer.ConnectAsync(KeygateApp.RedisServer!);
        foreach (var server in redis.GetServers())
            await foreach (var key in server.KeysAsync(pattern: _redisPrefix + "*"))
                await redis.GetDatabase().KeyDeleteAsync(key);
    }
}
