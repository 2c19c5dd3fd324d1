namespace Keygate.Kernel;

/// <summary>Everything under the "Keygate" configuration section.</summary>
public sealed class KeygateOptions
{
    public DatabaseOptions Database { get; set; } = new();
    public SecretsOptions Secrets { get; set; } = new();
    public BootstrapOptions Bootstrap { get; set; } = new();
    public DemoOptions Demo { get; set; } = new();
    public LoginThrottleOptions LoginThrottle { get; set; } = new();
    /// <summary>Addresses of reverse proxies whose X-Forwarded-For is believed.</summary>
    public string[] KnownProxies { get; set; } = [];
    /// <summary>SameAsRequest (default): cookies are Secure over HTTPS; Always: Secure even when the request was plain HTTP.</summary>
    public SecureCookies SecureCookies { get; set; } = SecureCookies.SameAsRequest;
    /// <summary>The name shown as lastModifiedBy when the operator acts.</summary>
    public string OperatorName { get; set; } = "Cloud Operator";
    /// <summary>The API base URL shown beside the key, for orgs that have none of their own.</summary>
    public string DefaultBaseUrl { get; set; } = "http://localhost:5080/api/v1";
    /// <summary>PBKDF2 iterations of the framework's password hasher (its default is 100,000).</summary>
    public int PasswordHashIterations { get; set; } = 100_000;
    /// <summary>Password hashes computed at once; 0 means one per core. Logins beyond it wait briefly, then get 503.</summary>
    public int MaxConcurrentHashes { get; set; }
    public int HashQueueWaitMilliseconds { get; set; } = 2000;
    public int SessionIdleMinutes { get; set; } = 30;
    /// <summary>A legacy session ends this long after its login, whatever its activity (contract A2).</summary>
    public int SessionMaxHours { get; set; } = 24;
    /// <summary>Largest JSON body accepted by the APIs; larger ones get 413.</summary>
    public int MaxJsonBodyBytes { get; set; } = 64 * 1024;
    public MetricsOptions Metrics { get; set; } = new();
    public TelemetryOptions Telemetry { get; set; } = new();
    public SandboxOptions Sandbox { get; set; } = new();
    public WebhookOptions Webhooks { get; set; } = new();
    public RedisOptions Redis { get; set; } = new();
    public ClusterOptions Cluster { get; set; } = new();
    public GatewayOptions Gateway { get; set; } = new();
}

/// <summary>
/// The gateway's own settings (contract A7). Its routes and clusters sit beside them, under Keygate:Gateway:Routes and
/// Keygate:Gateway:Clusters, in the reverse proxy's (YARP's) own schema.
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>How long the upstream may stay silent (no answer, no bytes) before the call gets 504 UPSTREAM_TIMEOUT.</summary>
    public int TimeoutSeconds { get; set; } = 60;
    /// <summary>Largest request body forwarded; larger ones get 413 REQUEST_TOO_LARGE.</summary>
    public long MaxRequestBytes { get; set; } = 10 * 1024 * 1024;
    /// <summary>The identity token's "iss"; by default the origin of <see cref="KeygateOptions.DefaultBaseUrl"/>.</summary>
    public string? Issuer { get; set; }
    /// <summary>The identity token's "aud".</summary>
    public string Audience { get; set; } = "keygate-upstream";

    public string IssuerOf(KeygateOptions o) =>
        !string.IsNullOrWhiteSpace(Issuer) ? Issuer
        : Uri.TryCreate(o.DefaultBaseUrl, UriKind.Absolute, out var u) ? u.GetLeftPart(UriPartial.Authority) : "keygate";
}

public sealed class DatabaseOptions
{
    /// <summary>"Sqlite" (default) or "Postgres" (then ConnectionStrings:Keygate is required).</summary>
    public string Provider { get; set; } = "Sqlite";
    public string SqlitePath { get; set; } = "data/keygate.db";
    public bool MigrateOnStart { get; set; } = true;
}

public sealed class SecretsOptions
{
    /// <summary>Base64 of 32 random bytes. Required on PostgreSQL, where every node must share it.</summary>
    public string? KeyEncryptionKey { get; set; }
    /// <summary>Older KEKs still accepted for decryption while values are re-encrypted.</summary>
    public string[] PreviousKeyEncryptionKeys { get; set; } = [];
    /// <summary>On a single SQLite node without a configured KEK, one is created here with mode 0600.</summary>
    public string KeyFile { get; set; } = "secrets/kek.key";
}

public sealed class BootstrapOptions
{
    /// <summary>Operator token to install on an empty database instead of generating one.</summary>
    public string? OperatorToken { get; set; }
}

public sealed class DemoOptions
{
    public bool Enabled { get; set; }
    public string AdminUsername { get; set; } = "admin@acme.example";
}

public sealed class LoginThrottleOptions
{
    public int FailuresPerUsername { get; set; } = 10;
    public int FailuresPerAddress { get; set; } = 100;
    public int WindowSeconds { get; set; } = 900;
}

public sealed class MetricsOptions
{
    /// <summary>Unset: /metrics answers loopback callers only. Set: it answers only "Authorization: Bearer &lt;token&gt;".</summary>
    public string? Token { get; set; }
}

public sealed class TelemetryOptions
{
    /// <summary>
    /// False leaves out everything but Keygate's own meter (which /metrics needs): no framework, runtime, database or
    /// Redis instrumentation and no traces. The bench uses it to measure what telemetry costs the hot path.
    /// </summary>
    public bool Enabled { get; set; } = true;
}

public sealed class SandboxOptions
{
    /// <summary>Where submitted files are streamed; empty means submissions get 503 SANDBOX_UPSTREAM_NOT_CONFIGURED.</summary>
    public string? UpstreamUrl { get; set; }
    /// <summary>Largest file accepted; larger ones get 413 FILE_TOO_LARGE.</summary>
    public long MaxFileBytes { get; set; } = 20 * 1024 * 1024;
    /// <summary>How long the upstream may take to receive a file and answer.</summary>
    public int UpstreamTimeoutSeconds { get; set; } = 300;
}

public sealed class WebhookOptions
{
    /// <summary>The operator's own receivers; every event of every org goes to them.</summary>
    public string[] OperatorUrls { get; set; } = [];
    /// <summary>Signs deliveries to <see cref="OperatorUrls"/>; at least 16 characters when they are set.</summary>
    public string? OperatorSecret { get; set; }
    /// <summary>Lets deliveries reach loopback and private addresses; for tests and closed networks only.</summary>
    public bool AllowPrivateNetworks { get; set; }
    /// <summary>How long an event whose deliveries all ended (delivered or given up) is kept, for inspection.</summary>
    public int RetentionDays { get; set; } = 30;
}

public sealed class RedisOptions
{
    /// <summary>
    /// A StackExchange.Redis configuration string ("host:6379,password=…"). Set, it makes the node one of a
    /// cluster: counters and change notification go through Redis. Empty (the default) is a single node.
    /// </summary>
    public string? Configuration { get; set; }
    /// <summary>Prepended to every Redis key, so several Keygate deployments (or test runs) can share one Redis.</summary>
    public string Prefix { get; set; } = "keygate:";
    /// <summary>How long one Redis call may take before the node treats Redis as unreachable and uses the database.</summary>
    public int TimeoutMilliseconds { get; set; } = 250;

    public bool Enabled => !string.IsNullOrWhiteSpace(Configuration);
}

/// <summary>How a cluster node (Keygate:Redis) knows its cached org state is current and counts calls; docs/scale-out.md.</summary>
public enum ClusterHotPath
{
    /// <summary>One Redis script per call checks the org's version and counts the call.</summary>
    PerCallScript,
    /// <summary>Answers from memory under a lease that every change waits on, and spends blocks of allowance reserved from Redis.</summary>
    Leases,
}

public sealed class ClusterOptions
{
    public ClusterHotPath HotPath { get; set; } = ClusterHotPath.PerCallScript;

    /// <summary>
    /// With leases: how long an org may go without a call on this node before the node gives its unspent blocks back
    /// (at least 50 ms). Shorter returns allowance to busier nodes sooner; a node asked for it gives it back at once anyway.
    /// </summary>
    public int BlockIdleMilliseconds { get; set; } = 250;
}
