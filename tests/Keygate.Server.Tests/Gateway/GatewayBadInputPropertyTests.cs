using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CsCheck;

namespace Keygate.Tests;

/// <summary>
/// The bad-input rules on a gateway route (contracts A2 and A7), property-based: generated methods, paths, bodies,
/// content types, session credentials, cross-site and made-up X-Keygate-* headers against a route to the sample
/// upstream. What Keygate refuses gets the contract's {code,message} in the check order (cross-site, content type,
/// session) and reaches the upstream never; what it forwards reaches the upstream as the real admin of the real org;
/// nothing is a 5xx.
/// </summary>
public sealed class GatewayBadInputPropertyTests
{
    private const int Cases = 300;

    private enum Credential { Valid, ValidHeader, None, Garbage, LoggedOut }

    private sealed record GatewayCase(string Method, string Path, BadBody Body, bool SendBody, Credential Credential, string? Garbage,
        string? CrossSite, string? ForgedOrgId)
    {
        public override string ToString() =>
            $"{Method} {Path} body={(SendBody ? Body.Label : "none")} type={Body.ContentType ?? "none"} credential={Credential} {Garbage} crossSite={CrossSite} forgedOrg={ForgedOrgId}";
    }

    private static readonly Gen<string> Paths = Gen.Frequency(
        (3, Gen.OneOf("/api/v1/ecgroup", "/api/v1/provUrl", "/api/v1/locationTemplate", "/api/v1/location/lite", "/api/v1/ecgroup/lite")),
        (3, BadInput.BadIds.Select(id => "/api/v1/provUrl/" + id)),
        (1, BadInput.BadIds.Select(id => "/api/v1/no-such-thing/" + id)));

    private static readonly Gen<GatewayCase> AllCases =
        from method in Gen.OneOf("GET", "POST", "PUT", "PATCH", "DELETE")
        from path in Paths
        from body in BadInput.Bodies(BodySpec.LegacyOptional(Field.Str("name", 100, "\"x\"")))
        from sendBody in Gen.Bool
        from credential in Gen.OneOf(Credential.Valid, Credential.ValidHeader, Credential.None, Credential.Garbage, Credential.LoggedOut)
        from garbage in Gen.OneOf("", "x", "null", "JSESSIONID=", "%00", "a;b", new string('A', 4000), "00000000000000000000000000000000")
        from crossSite in Gen.Frequency((6, Gen.Const("")), (1, Gen.OneOf("Sec-Fetch-Site: cross-site", "Sec-Fetch-Site: same-site",
            "Origin: https://attacker.example", "Origin: null")))
        from forged in Gen.Frequency((3, Gen.Const("")), (1, Gen.OneOf("1", "-1", "abc")))
        select new GatewayCase(method, path, body, sendBody, credential, garbage, crossSite.Length == 0 ? null : crossSite, forged.Length == 0 ? null : forged);

    /// <summary>What Keygate must answer itself, in its check order, or null when the call is forwarded.</summary>
    private static (HttpStatusCode, string)? Refusal(GatewayCase c)
    {
        if (c.CrossSite is not null) return (HttpStatusCode.Forbidden, "ACCESS_DENIED");
        var hasBody = c.SendBody && c.Body.Bytes.Length > 0;
        var json = c.Body.ContentType is { } t && MediaTypeHeaderValue.Parse(t).MediaType == "application/json";
        var write = c.Method is "POST" or "PUT" or "PATCH" or "DELETE";
        if (c.Body.ContentType is null ? hasBody : !json && (write || hasBody)) return (HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        if (c.Credential is Credential.None or Credential.Garbage or Credential.LoggedOut) return (HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        return null;
    }

    [Fact]
    public async Task EveryBadInputOnAGatewayRouteGetsTheContractsRefusalOrReachesTheUpstreamAsTheRealAdmin()
    {
        await using var g = await GatewayHost.StartAsync();
        var org = await g.App.CreateOrgAsync();
        var key = await g.App.KeyValueAsync(org);
        async Task<string> SessionAsync()
        {
            var login = await g.App.LoginAsync(org.Username, org.Password, key);
            await login.AssertOk();
            return Scenario.SessionIdOf(login)!;
        }
        var session = await SessionAsync();
        var loggedOut = await SessionAsync();
        using (var end = g.App.SessionClient(loggedOut)) Assert.Equal(HttpStatusCode.NoContent, (await end.DeleteAsync("/api/v1/auth")).StatusCode);
        using var client = g.App.Client();
        var forwardedCases = 0;

        await AllCases.SampleAsync(async c =>
        {
            var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path);
            if (c.SendBody || c.Body.ContentType is not null)
            {
                request.Content = new ByteArrayContent(c.SendBody ? c.Body.Bytes : []);
                if (c.Body.ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", c.Body.ContentType);
            }
            switch (c.Credential)
            {
                case Credential.Valid: request.Headers.Add("Cookie", $"JSESSIONID={session}"); break;
                case Credential.ValidHeader: request.Headers.Add("JSessionID", session); break;
                case Credential.Garbage: request.Headers.TryAddWithoutValidation("Cookie", $"JSESSIONID={c.Garbage}"); break;
                case Credential.LoggedOut: request.Headers.Add("Cookie", $"JSESSIONID={loggedOut}"); break;
            }
            if (c.CrossSite?.Split(": ") is [var name, var value]) request.Headers.TryAddWithoutValidation(name, value);
            if (c.ForgedOrgId is not null) request.Headers.TryAddWithoutValidation("X-Keygate-Org-Id", c.ForgedOrgId);
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer made-up");

            var before = g.Upstream.ApiCalls;
            var answer = await client.SendAsync(request);
            var text = await answer.Content.ReadAsStringAsync();
            Assert.True((int)answer.StatusCode < 500, $"{(int)answer.StatusCode} for {c}: {text}");
            if (Refusal(c) is var (status, code))
            {
                Assert.True(answer.StatusCode == status, $"{(int)answer.StatusCode}, not {(int)status}, for {c}: {text}");
                var body = JsonDocument.Parse(text).RootElement;
                Assert.Equal(code, body.GetProperty("code").GetString());
                Assert.Equal(["code", "message"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
                Assert.Equal(before, g.Upstream.ApiCalls);
                return;
            }
            Assert.Equal(before + 1, g.Upstream.ApiCalls);
            Interlocked.Increment(ref forwardedCases);
            var seen = await GatewayTests.LastRequestAsync(g.Upstream);
            Assert.True(seen.GetProperty("authenticated").GetBoolean(), $"the upstream did not take Keygate's token for {c}");
            Assert.Equal(org.Id.ToString(), seen.GetProperty("orgId").GetString());
            Assert.Equal(org.Id.ToString(), seen.GetProperty("keygateHeaders").GetProperty("X-Keygate-Org-Id").GetString());
            Assert.False(seen.GetProperty("cookiePresent").GetBoolean());
        }, iter: Cases, threads: 1, print: c => c.ToString());

        Assert.True(forwardedCases > 0, "no generated case was forwarded, so the forwarded side was never checked");
    }
}
