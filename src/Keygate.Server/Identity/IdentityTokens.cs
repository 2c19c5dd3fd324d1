using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Sessions;
using Microsoft.Extensions.Options;

namespace Keygate.Identity;

/// <summary>
/// The identity token the gateway hands the upstream (contract A7): a compact JWS, ES256, written by hand because it is
/// one header and one flat payload. One token serves the calls of a session while its org's state, the signing key and
/// most of its lifetime stay the same, so signing is not on every call.
/// </summary>
public sealed class IdentityTokens(SigningKeyRing keys, TimeProvider clock, IOptions<KeygateOptions> options)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
    /// <summary>A token with less left than this is not handed out again: the upstream must not see it expire mid-call.</summary>
    public static readonly TimeSpan MinimumLeft = TimeSpan.FromSeconds(60);

    // The Authorization header value itself, so a reused token costs no string per call.
    private sealed record Cached(string Bearer, long StateVersion, string Kid, long ExpiresAtMs);

    // Keyed by the session's entry, so a token dies with its session and never leaks to another.
    private readonly ConditionalWeakTable<SessionEntry, Cached> _cache = new();
    private readonly string _issuer = options.Value.Gateway.IssuerOf(options.Value);
    private readonly string _audience = options.Value.Gateway.Audience;

    /// <summary>The Authorization header value to forward: "Bearer " and the session's token.</summary>
    public async ValueTask<string> BearerAsync(SessionEntry session, OrgSnapshot org)
    {
        var signer = await keys.CurrentAsync();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (_cache.TryGetValue(session, out var c) && c.StateVersion == org.StateVersion && c.Kid == signer.Kid
            && c.ExpiresAtMs - now >= MinimumLeft.TotalMilliseconds)
            return c.Bearer;
        var expires = now + (long)Lifetime.TotalMilliseconds;
        var bearer = "Bearer " + Sign(signer, session, org, now / 1000, expires / 1000);
        _cache.AddOrUpdate(session, new Cached(bearer, org.StateVersion, signer.Kid, expires / 1000 * 1000));
        return bearer;
    }

    private string Sign(SigningKeyRing.Signer signer, SessionEntry session, OrgSnapshot org, long iat, long exp)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("alg", "ES256");
            w.WriteString("typ", "JWT");
            w.WriteString("kid", signer.Kid);
            w.WriteEndObject();
        }
        var header = Base64Url.EncodeToString(buffer.WrittenSpan);
        buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("iss", _issuer);
            w.WriteString("aud", _audience);
            w.WriteString("sub", session.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteNumber("org_id", org.OrgId);
            w.WriteString("login_name", session.Username);
            // The role as the snapshot has it: a role change bumps the org's version, so a cached token is not reused.
            var rights = org.Admins.TryGetValue(session.AccountId, out var admin) ? admin.Rights : AdminRights.Nothing;
            w.WriteString("role", rights.RoleName);
            w.WriteStartObject("permissions");
            for (var i = 0; i < AdminRights.Features.Length; i++) w.WriteString(AdminRights.Features[i], rights.Levels[i].ToString());
            w.WriteEndObject();
            w.WriteString("jti", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
            w.WriteNumber("iat", iat);
            w.WriteNumber("exp", exp);
            w.WriteEndObject();
        }
        var signingInput = header + "." + Base64Url.EncodeToString(buffer.WrittenSpan);
        // JWS ES256 wants r‖s (IEEE P1363), which is what SignData gives by default.
        var signature = signer.Key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }
}
