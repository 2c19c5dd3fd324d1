using CsCheck;

namespace Keygate.Tests;

/// <summary>One generated request and the answer it must get.</summary>
public sealed record BadCase(string Label, string Method, string Url, byte[]? Body, string? ContentType, Expect Expect)
{
    public override string ToString() =>
        $"{Label}: {Method} {Url} [{ContentType ?? "no content type"}] {(Body is null ? "(no body)" : BadInput.Describe(Body))} → " +
        (Expect.Status == 0 ? "the clean request's status" : $"{Expect.Status} {Expect.Code}");
}

/// <summary>The generator of every bad request for one route of the <see cref="RouteTable"/>.</summary>
public static class RouteCases
{
    public static Gen<BadCase> For(RouteEntry route, RouteContext c)
    {
        if (route.Custom is { } custom) return custom(c);
        var gens = new List<(int, Gen<BadCase>)>();
        var validBody = route.Body?.ValidBytes();
        if (route.Body is { } spec)
            gens.Add((8, BadInput.Bodies(spec).Select(b => new BadCase(b.Label, route.Method, route.Url(c), b.Bytes, b.ContentType, b.Expect))));

        foreach (var (name, _) in route.Path)
        {
            // Optional segments (the API reference's document name) take any value; the others name a resource.
            var expect = name.EndsWith('?') ? Expect.Baseline : route.PathStatusOnly ? new Expect(404, null) : Expect.NotFound;
            var ids = route.Surface == Surface.Legacy && name == "id"
                ? Gen.Frequency((9, BadInput.BadIds), (1, Gen.Const(c.OtherOrgKeyId.ToString())))
                : BadInput.BadIds;
            gens.Add((3, ids.Select(v => new BadCase($"{name} = {v}", route.Method, route.Url(c, name, v), validBody,
                validBody is null ? null : BadInput.Json, expect))));
        }

        foreach (var q in route.Query)
        {
            var values = q.Ignored ? BadInput.QueryValues : BadInput.QueryValues.Where(v => !q.IsValid!(BadInput.Decoded(v)));
            gens.Add((2, values.Select(v => new BadCase($"?{q.Name}={v}", route.Method, $"{route.Url(c)}?{q.Name}={v}", null, null,
                q.Ignored ? Expect.Baseline : Expect.Invalid()))));
        }

        // Parameters no route reads change nothing; only on GET, where the rest of the request is valid and harmless.
        if (route.Method == "GET")
            gens.Add((1, Gen.Select(BadInput.JunkParameterNames, BadInput.QueryValues).Select((n, v) =>
                new BadCase($"unread ?{n}={v}", route.Method, $"{route.Url(c)}?{n}={v}", null, null, Expect.Baseline))));
        return Gen.Frequency([.. gens]);
    }
}

/// <summary>
/// The sandbox (contract A6) takes any body, so its bad input is the token: missing, repeated, malformed, or well
/// formed but nobody's. Each is 401 INVALID_API_TOKEN whatever the body, and uses no quota.
/// </summary>
public static class SandboxCases
{
    private static readonly Gen<string> Tokens = Gen.Frequency(
        (4, BadInput.QueryValues),
        (2, Gen.String[Gen.Char.AlphaNumeric, 32, 32]),
        (1, Gen.String[Gen.Char.AlphaNumeric, 33, 64]));

    private static readonly Gen<(byte[]?, string?)> Bodies = Gen.Frequency(
        (2, Gen.Const<(byte[]?, string?)>((null, null))),
        (3, Gen.Byte.Array[0, 2048].Select(b => ((byte[]?)b, (string?)"application/octet-stream"))),
        (2, BadInput.Bodies(BodySpec.Legacy()).Select(b => ((byte[]?)b.Bytes, b.ContentType))));

    public static Gen<BadCase> Generate(RouteContext _) =>
        Gen.Select(Tokens, Gen.Int[0, 3], Bodies).Select((token, shape, body) =>
        {
            var query = shape switch
            {
                0 => $"?api_token={token}",
                1 => $"?api_token={token}&api_token={token}",
                2 => $"?API_TOKEN={token}&force=1",
                _ => token.Length % 2 == 0 ? "" : "?force=1",
            };
            return new BadCase($"token shape {shape}", "POST", "/zscsb/submit" + query, body.Item1, body.Item2, new Expect(401, "INVALID_API_TOKEN"));
        });
}
