using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Keygate.SampleUpstream;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Keygate.Tests;

/// <summary>
/// The sample upstream on Kestrel loopback, trusting a JWKS that a second tiny loopback app serves: the test stands in
/// for Keygate, holding the ES256 keys and minting identity tokens (contract A7) with them.
/// </summary>
public sealed class SampleUpstreamHost : IAsyncDisposable
{
    public const string Issuer = "http://keygate.test";
    public const string Audience = "keygate-upstream";

    /// <summary>A role's feature permissions (contract A8) for every feature the sample checks.</summary>
    public static Dictionary<string, object> Permissions(string level) => new()
    {
        ["APIKEY_MANAGEMENT"] = level,
        ["EDGE_CONNECTOR_CLOUD_PROVISIONING"] = level,
        ["EDGE_CONNECTOR_LOCATION_MANAGEMENT"] = level,
        ["EDGE_CONNECTOR_TEMPLATE"] = level,
    };

    private readonly List<(string Kid, ECDsa Key)> _published = [];
    private WebApplication? _jwks;
    private WebApplication _upstream = null!;
    private int _jwksFetches;

    public string Url { get; private set; } = "";
    public string JwksUrl { get; private set; } = "";
    /// <summary>How many times the sample has fetched the JWKS.</summary>
    public int JwksFetches => Volatile.Read(ref _jwksFetches);
    /// <summary>The key Keygate signs with now (the last one published).</summary>
    public (string Kid, ECDsa Key) Signing => _published[^1];

    private int _apiCalls;

    /// <summary>How many /api/v1 requests reached the sample (the gateway's forwarded calls).</summary>
    public int ApiCalls => Volatile.Read(ref _apiCalls);

    /// <summary>The sample trusting a real Keygate: its issuer and its JWKS (which need not be up yet).</summary>
    public static async Task<SampleUpstreamHost> StartBehindAsync(string issuer, string jwksUrl)
    {
        var host = new SampleUpstreamHost { JwksUrl = jwksUrl };
        await host.StartUpstreamAsync(issuer, diagnostics: true);
        return host;
    }

    private async Task StartUpstreamAsync(string issuer, bool diagnostics)
    {
        _upstream = SampleUpstreamApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Upstream:Issuer"] = issuer,
                ["Upstream:JwksUrl"] = JwksUrl,
                ["Upstream:Diagnostics"] = diagnostics ? "true" : "false",
            });
            b.Logging.ClearProviders();
        });
        // Runs after authentication, before the endpoint: counts what got through to the API, token or not.
        _upstream.Use(async (http, next) =>
        {
            if (http.Request.Path.StartsWithSegments("/api/v1")) Interlocked.Increment(ref _apiCalls);
            await next(http);
        });
        _upstream.Urls.Add("http://127.0.0.1:0");
        await _upstream.StartAsync();
        Url = _upstream.Urls.Single();
    }

    public static async Task<SampleUpstreamHost> StartAsync(bool diagnostics = true)
    {
        var host = new SampleUpstreamHost();
        host.Rotate();
        var jwks = WebApplication.CreateSlimBuilder();
        jwks.Logging.ClearProviders();
        var jwksApp = host._jwks = jwks.Build();
        jwksApp.Urls.Add("http://127.0.0.1:0");
        jwksApp.MapGet("/.well-known/jwks.json", () =>
        {
            Interlocked.Increment(ref host._jwksFetches);
            return Results.Text(host.JwksDocument(), "application/json");
        });
        await jwksApp.StartAsync();
        host.JwksUrl = jwksApp.Urls.Single() + "/.well-known/jwks.json";
        await host.StartUpstreamAsync(Issuer, diagnostics);
        return host;
    }

    /// <summary>Publishes a new key and signs with it from now on; the old ones stay listed, as Keygate does.</summary>
    public string Rotate()
    {
        var kid = "kg-" + Guid.NewGuid().ToString("N")[..8];
        _published.Add((kid, ECDsa.Create(ECCurve.NamedCurves.nistP256)));
        return kid;
    }

    /// <summary>
    /// An identity token for an admin of <paramref name="orgId"/> with Super Admin rights, signed with the current key;
    /// <paramref name="change"/> may alter anything before it is signed.
    /// </summary>
    public string Mint(string orgId, Action<SecurityTokenDescriptor>? change = null, Dictionary<string, object>? permissions = null)
    {
        var now = DateTime.UtcNow;
        var (kid, key) = Signing;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(5),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = "77",
                ["org_id"] = long.Parse(orgId),
                ["login_name"] = $"admin@org{orgId}.example",
                ["role"] = "Super Admin",
                ["permissions"] = permissions ?? Permissions("READ_WRITE"),
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = kid }, SecurityAlgorithms.EcdsaSha256),
        };
        change?.Invoke(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>The public halves only, the way Keygate's /.well-known/jwks.json lists them.</summary>
    private string JwksDocument() => JsonSerializer.Serialize(new
    {
        keys = _published.ToArray().Select(p =>
        {
            var q = p.Key.ExportParameters(includePrivateParameters: false).Q;
            return new { kty = "EC", crv = "P-256", use = "sig", alg = "ES256", kid = p.Kid, x = Base64Url.EncodeToString(q.X), y = Base64Url.EncodeToString(q.Y) };
        }),
    });

    public async ValueTask DisposeAsync()
    {
        await _upstream.StopAsync();
        await _upstream.DisposeAsync();
        if (_jwks is not null)
        {
            await _jwks.StopAsync();
            await _jwks.DisposeAsync();
        }
        foreach (var (_, key) in _published) key.Dispose();
    }
}
