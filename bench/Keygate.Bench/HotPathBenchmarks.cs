using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Metering;
using Keygate.Secrets;
using Keygate.Sessions;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using System.Security.Cryptography;

namespace Keygate.Bench;

/// <summary>
/// The pieces of every legacy API call, each on its own: ns and bytes allocated per operation.
/// Run: dotnet run -c Release --project bench/Keygate.Bench -- --filter '*'
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private const string Key = "AbCdEfGh1234";
    private const string Timestamp = "1700000123456";
    private const string Sent = "bCdEfGC1d2E3";
    private readonly KeyVault _vault = new(RandomNumberGenerator.GetBytes(32));
    private byte[] _ciphertext = [];
    private SessionStore _sessions = null!;
    private SessionGate _gate = null!;
    private MemoryUsageCounter _usage = null!;
    private string _sessionId = "";
    private readonly OrgLimits _limits = new() { LightPerSecond = int.MaxValue, LightPerHour = int.MaxValue, CallThreshold = long.MaxValue };
    private DefaultHttpContext _http = null!;
    private readonly LegacyCaller _caller = new();

    [GlobalSetup]
    public void Setup()
    {
        _ciphertext = _vault.Encrypt(Key, 1, 1);
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var scopes = services.GetRequiredService<IServiceScopeFactory>();
        var options = Options.Create(new KeygateOptions());
        _sessions = new SessionStore(scopes, TimeProvider.System, options, NullLogger<SessionStore>.Instance);
        _usage = new MemoryUsageCounter(scopes, new UsageHistory(scopes, NullLogger<UsageHistory>.Instance));
        var orgs = new OrgStateCache(scopes, _vault);
        var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        orgs.Publish(new OrgSnapshot(1, null, "Bench", "http://x", true, null, false, _limits, 1, 0,
            new KeySnapshot(1, KeyType.CLOUD_SERVICE, Key, 1, 1, null, null, now, 1, "admin"), null)
        {
            Admins = new Dictionary<long, AdminSnapshot> { [1] = new(1, "admin", AdminRights.Full, false, now, false) },
        });
        _sessionId = SessionStore.NewId();
        _sessions.Add(new SessionEntry(SessionStore.Hash(_sessionId), 1, 1, "admin", 1, 1, now, now, "127.0.0.1"));
        var metrics = new KeygateMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        _gate = new SessionGate(_sessions, orgs, _usage, new Threshold(scopes, metrics), metrics, TimeProvider.System);
        _http = new DefaultHttpContext();
        _http.Request.Method = "GET";
        _http.Request.Headers.Cookie = "JSESSIONID=" + _sessionId;
    }

    [Benchmark(Description = "obfuscation check")]
    public bool ObfuscationCheck() => KeyValues.ObfuscatedMatches(Key, Timestamp, Sent);

    [Benchmark(Description = "session lookup (SHA-256 of the id)")]
    public SessionEntry? SessionLookup() => _sessions.Find(_sessionId);

    [Benchmark(Description = "key decryption (AES-256-GCM)")]
    public string KeyDecryption() => _vault.Decrypt(_ciphertext, 1, 1);

    [Benchmark(Description = "metering increment")]
    public MeterDecision MeteringIncrement() => _usage.CountCallAsync(1, MethodWeight.Light, _limits, 1_700_000_000_000, -1).Result;

    [Benchmark(Description = "whole session gate (cookie → session → snapshot → metering)")]
    public KeygateError? SessionGateCheck() => _gate.CheckAsync(_http, _caller).Result;
}
