using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Keygate;

/// <summary>
/// Provider API bearer tokens: <c>kgp_</c> (operator) or <c>kgs_</c> (service provider), 256 random bits in
/// base62, then a 6-character checksum so secret scanners can tell a real token from noise. Only the SHA-256
/// is stored; the token is shown once.
/// </summary>
public static class ProviderTokens
{
    public const string OperatorPrefix = "kgp_";
    public const string ServiceProviderPrefix = "kgs_";
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int BodyLength = 43; // 43 base62 characters carry 256 bits

    public static string Generate(string prefix)
    {
        var body = RandomNumberGenerator.GetString(Base62, BodyLength);
        return prefix + body + Checksum(prefix + body);
    }

    public static bool IsWellFormed(string token)
    {
        if (!(token.StartsWith(OperatorPrefix, StringComparison.Ordinal) || token.StartsWith(ServiceProviderPrefix, StringComparison.Ordinal))) return false;
        if (token.Length != 4 + BodyLength + 6 || token.AsSpan(4).ContainsAnyExcept(Base62)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Checksum(token[..^6])), Encoding.ASCII.GetBytes(token[^6..]));
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string Checksum(string s)
    {
        var n = BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(Encoding.ASCII.GetBytes(s)));
        Span<char> c = stackalloc char[6];
        for (var i = 5; i >= 0; i--) { c[i] = Base62[(int)(n % 62)]; n /= 62; }
        return new string(c);
    }
}

/// <summary>The caller of a provider API request, filled by <see cref="ProviderAuthFilter"/>.</summary>
public sealed class ProviderCaller
{
    public Actor Actor { get; set; } = null!;
    public bool IsOperator => Actor.Kind == ActorKind.Operator;
}

/// <summary>Bearer-token authentication for /provider/v1: 401 UNAUTHORIZED without a valid token.</summary>
public sealed class ProviderAuthFilter(AppDbContext db, ProviderCaller caller, IOptions<KeygateOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next)
    {
        var http = ctx.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        if (!ProviderTokens.IsWellFormed(token)) return Unauthorized(http);
        var hash = ProviderTokens.Hash(token);
        var row = await db.ProviderTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Hash == hash);
        if (row is null) return Unauthorized(http);
        var address = ClientAddress.Of(http);
        if (row.ServiceProviderId is { } spId)
        {
            var sp = await db.ServiceProviders.AsNoTracking().FirstAsync(s => s.Id == spId);
            caller.Actor = new Actor(ActorKind.ServiceProvider, 0, sp.Name, address) { ServiceProviderId = spId };
        }
        else
        {
            caller.Actor = new Actor(ActorKind.Operator, 0, options.Value.OperatorName, address);
        }
        return await next(ctx);
    }

    private static object Unauthorized(HttpContext http)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return ErrorResponses.Problem(KeygateError.Unauthorized);
    }
}
