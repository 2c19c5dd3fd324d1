using System.Globalization;
using CsCheck;
using static Keygate.Tests.Field;

namespace Keygate.Tests;

public enum Surface { Legacy, Own }
public enum Caller { Anonymous, Session, Operator }

/// <summary>The ids a route's valid path values come from: the test org, its Cloud Service key, a service provider, another org's key.</summary>
public sealed record RouteContext(long OrgId, long KeyId, long ServiceProviderId, long OtherOrgKeyId)
{
    /// <summary>A provider token, a console login and an admin of the test org, for the routes that name one.</summary>
    public long TokenId { get; init; }
    public long StaffId { get; init; }
    public long AdminId { get; init; }
    public long RoleId { get; init; }
}

/// <summary>A query parameter: bad values are refused with a 400 unless <paramref name="IsValid"/>, or (Ignored) change nothing.</summary>
public sealed record QueryParam(string Name, Func<string, bool>? IsValid = null)
{
    public bool Ignored => IsValid is null;
}

/// <summary>One route of the server and what it reads: the body, the path parameters (with their valid values) and the query.</summary>
public sealed record RouteEntry(string Method, string Pattern, Surface Surface, Caller Caller)
{
    public BodySpec? Body { get; init; }
    public (string Name, Func<RouteContext, string> Valid)[] Path { get; init; } = [];
    public QueryParam[] Query { get; init; } = [];
    /// <summary>Overrides the body cases, for a route whose body is not JSON (the sandbox).</summary>
    public Func<RouteContext, Gen<BadCase>>? Custom { get; init; }
    /// <summary>A bad path value gets the 404 without the contract's body (a framework handler answers it).</summary>
    public bool PathStatusOnly { get; init; }

    public string Key => $"{Method} {Pattern}";

    public string Url(RouteContext c, string? badParam = null, string? badValue = null) =>
        Path.Aggregate(Pattern, (url, p) => url.Replace("{" + p.Name + "}", p.Name == badParam ? badValue! : p.Valid(c)));
}

/// <summary>
/// Every route of the server with a generator for each of its inputs. A route the server maps that is missing here
/// fails <c>BadInputPropertyTests.EveryRouteOfTheServerHasAnEntryInTheRouteTable</c>: add it in one line.
/// </summary>
public static class RouteTable
{
    private static readonly (string, Func<RouteContext, string>) OrgId = ("orgId", c => c.OrgId.ToString(CultureInfo.InvariantCulture));
    private static readonly (string, Func<RouteContext, string>) KeyId = ("keyId", c => c.KeyId.ToString(CultureInfo.InvariantCulture));
    private static readonly (string, Func<RouteContext, string>) LegacyKeyId = ("id", c => c.KeyId.ToString(CultureInfo.InvariantCulture));
    private static readonly (string, Func<RouteContext, string>) TokenId = ("id", c => c.TokenId.ToString(CultureInfo.InvariantCulture));
    private static readonly (string, Func<RouteContext, string>) StaffId = ("id", c => c.StaffId.ToString(CultureInfo.InvariantCulture));
    private static readonly (string, Func<RouteContext, string>) AdminId = ("adminId", c => c.AdminId.ToString(CultureInfo.InvariantCulture));
    private static readonly (string, Func<RouteContext, string>) RoleId = ("roleId", c => c.RoleId.ToString(CultureInfo.InvariantCulture));
    private static readonly Field[] AdminFields =
    [
        Str("loginName", 256, "\"newadmin@test.example\"") with { Nullable = true, Bad = ["\"ab\"", "\"has space\"", "\"\""] },
        Str("userName", 256, "\"New Admin\"") with { Nullable = true },
        Str("email", 256, "\"new@test.example\"") with { Nullable = true },
        Str("comments", 1000, "\"\"") with { Nullable = true },
        Bool("disabled") with { Nullable = true },
    ];
    private static readonly Field[] RoleFields =
    [
        Int("rank", "7") with { Bad = ["-1", "1001"] },
        Str("roleType", 64, "\"EDGE_CONNECTOR_ADMIN\"") with { Nullable = true },
        Bool("isAuditor") with { Nullable = true },
        Obj("featurePermissions", Enum("APIKEY_MANAGEMENT", "READ_ONLY", "READ_WRITE", "NONE") with { Bad = ["\"ALL\"", "\"\"", "\"read_only\""] }),
    ];
    private static readonly (string, Func<RouteContext, string>) SpId = ("id", c => c.ServiceProviderId.ToString(CultureInfo.InvariantCulture));

    private static RouteEntry Legacy(string method, string pattern, BodySpec? body = null, Caller caller = Caller.Session) =>
        new(method, pattern, Surface.Legacy, caller) { Body = body };
    private static RouteEntry Provider(string method, string pattern, BodySpec? body = null) =>
        new(method, "/provider/v1" + pattern, Surface.Own, Caller.Operator) { Body = body };
    private static RouteEntry Open(string method, string pattern) => new(method, pattern, Surface.Own, Caller.Anonymous);

    private static Field Account(string name, string valid) => Str(name, 256, valid) with { Bad = ["\"ab\"", "\"has space\"", "\"\""] };
    private static Field Password() => Str("password", 256, "\"correct horse battery\"") with { Bad = ["\"short\"", "\"\""] };
    private static Field Name(bool nullable = false) => Str("name", 200, "\"Org name\"") with { Bad = ["\"\"", "\"   \"", "\"a\\u0001b\""], Nullable = nullable };
    private static readonly Field[] Webhooks =
    [
        new Field("urls", FieldKind.StrArray, "[\"https://hooks.example.test/k\"]")
        {
            MaxLength = 2000,
            Bad = ["[\"not a url\"]", "[\"ftp://hooks.example.test/\"]", "[\"\"]", "[\"https://u:p@hooks.example.test/\"]", "[null]",
                "[" + string.Join(',', Enumerable.Range(0, 11).Select(i => $"\"https://h{i}.example.test/\"")) + "]"],
        },
        Str("secret", 256, "\"0123456789abcdef0123\"") with { Nullable = true, Bad = ["\"short\"", "\"0123456789abcdef\\u0007\""] },
    ];
    private static bool IsCanonicalOrEmpty(string v, Func<long, bool> inRange) =>
        long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && inRange(n);

    public static readonly RouteEntry[] All =
    [
        // ------------------------------------------------------------ legacy (contract A)
        Legacy("POST", "/api/v1/auth", BodySpec.Legacy(
            Str("apiKey", 64, "\"AbCdEfGh1234\""), Str("username", 256, "\"nobody@test.example\""), Str("password", 1024, "\"correct horse battery\""),
            new Field("timestamp", FieldKind.Timestamp, "\"1768478400000\"") { Bad = ["\"abc\"", "\"12345\"", "\"\"", "\"1768478400000.0\"", "\" 1768478400000\"", "\"-1768478400000\""] }),
            Caller.Anonymous),
        Legacy("GET", "/api/v1/auth"),
        Legacy("DELETE", "/api/v1/auth", BodySpec.LegacyOptional()),
        Legacy("DELETE", "/auth", BodySpec.LegacyOptional()),
        Legacy("GET", "/api/v1/apiKeys") with
        {
            Query = [new("keyType", v => v.Length == 0 || new[] { "CLOUD_SERVICE", "SANDBOX_SUBMISSION", "ALL" }.Contains(v.ToUpperInvariant())),
                new("includePartnerKey"), new("includePartnerKeys"), new("page"), new("pageSize")],
        },
        Legacy("POST", "/api/v1/apiKeys", BodySpec.LegacyOptional(
            Enum("keyType", "SANDBOX_SUBMISSION", "CLOUD_SERVICE") with { Nullable = true, Bad = ["\"ALL\"", "\"BOGUS\"", "\"\"", "\"sandbox submission\""] })),
        Legacy("PUT", "/api/v1/apiKeys/{id}", BodySpec.LegacyOptional(
            Str("keyValue", 12, "\"Zz9Yy8Xx7Ww6\"") with
            {
                Code = "INVALID_KEY_VALUE",
                Bad = ["\"short\"", "\"\"", "\"ÄbcdefGh1234\"", "\"AbCdEfGh123!\"", "\"AbCdEfGh١٢٣٤\"", "\"AbCdEfGh123 \""],
            })) with { Path = [LegacyKeyId] },
        Legacy("POST", "/api/v1/apiKeys/{id}/regenerate", BodySpec.LegacyOptional()) with { Path = [LegacyKeyId] },
        Legacy("DELETE", "/api/v1/apiKeys/{id}", BodySpec.LegacyOptional()) with { Path = [LegacyKeyId] },
        Legacy("GET", "/api/v1/ecAdminActivateStatus"),
        Legacy("PUT", "/api/v1/ecAdminActivateStatus/activate", BodySpec.LegacyOptional()),
        Legacy("PUT", "/api/v1/ecAdminActivateStatus/forcedActivate", BodySpec.LegacyOptional()),
        Legacy("GET", "/api/v1/usage"),
        Legacy("GET", "/api/v1/adminUsers") with
        {
            Query = [new("search"), new("page", v => v.Length == 0 || IsCanonicalOrEmpty(v, n => n is >= 1 and <= int.MaxValue)),
                new("pageSize", v => v.Length == 0 || IsCanonicalOrEmpty(v, n => n is >= 1 and <= 1000))],
        },
        Legacy("GET", "/api/v1/adminUsers/{adminId}") with { Path = [AdminId] },
        // A new admin needs a login name, a password and a role; each bad one is refused before anything is added.
        Legacy("POST", "/api/v1/adminUsers", BodySpec.Legacy([.. AdminFields,
            Str("role", 128, "\"Read Only Admin\"") with { Bad = ["\"No Such Role\"", "\"\""] },
            Str("password", 128, "\"correct horse battery\"") with { Code = "INVALID_PASSWORD", Nullable = true, Bad = ["\"short\"", "\"\"", "\"xnewadmin@test.examplex\""] }])),
        Legacy("PUT", "/api/v1/adminUsers/{adminId}", BodySpec.LegacyOptional(AdminFields)) with { Path = [AdminId] },
        Legacy("DELETE", "/api/v1/adminUsers/{adminId}", BodySpec.LegacyOptional()) with { Path = [AdminId] },
        Legacy("GET", "/api/v1/adminRoles"),
        Legacy("GET", "/api/v1/adminRoles/{roleId}") with { Path = [RoleId] },
        Legacy("POST", "/api/v1/adminRoles", BodySpec.Legacy([Str("name", 128, "\"Auditors\"") with { Bad = ["\"\"", "\"Super Admin\""] }, .. RoleFields])),
        Legacy("PUT", "/api/v1/adminRoles/{roleId}", BodySpec.LegacyOptional([Str("name", 128, "\"Auditors 2\"") with { Nullable = true, Bad = ["\"\"", "\"read only admin\""] }, .. RoleFields])) with { Path = [RoleId] },
        Legacy("DELETE", "/api/v1/adminRoles/{roleId}", BodySpec.LegacyOptional()) with { Path = [RoleId] },
        Legacy("POST", "/api/v1/passwordChange", BodySpec.Legacy(Str("userName", 256, "\"nobody@test.example\""),
            Str("oldPassword", 1024, "\"correct horse battery\""), Str("newPassword", 128, "\"another horse battery\"") with { Code = "INVALID_PASSWORD", Nullable = true, Bad = ["\"short\""] })),
        Legacy("POST", "/zscsb/submit", caller: Caller.Anonymous) with { Custom = SandboxCases.Generate },

        // ------------------------------------------------------------ provider (contract B)
        Provider("POST", "/serviceProviders", BodySpec.Provider(Name())),
        Provider("POST", "/staff", BodySpec.Provider(Account("username", "\"staff@test.example\""), Password(),
            Long("serviceProviderId") with { Bad = ["0", "-1", "999999999"] })),
        Provider("POST", "/organizations", BodySpec.Provider(Name(),
            Obj("admin", Account("username", "\"admin@test.example\""), Password()) with { Nullable = false },
            Long("serviceProviderId") with { Bad = ["0", "-1", "999999999"] })),
        Provider("GET", "/organizations") with { Query = [new("search")] },
        Provider("GET", "/organizations/{orgId}") with { Path = [OrgId] },
        Provider("PATCH", "/organizations/{orgId}", BodySpec.Provider(Name(nullable: true),
            Str("baseUrl", 2000, "\"https://api.example.test/api/v1\"") with { Nullable = true, Bad = ["\"not a url\"", "\"ftp://x.example.test/\"", "\"\""] },
            Bool("endSessionsOnKeyChange") with { Nullable = true })) with { Path = [OrgId] },
        Provider("PUT", "/organizations/{orgId}/subscription", BodySpec.Provider(Bool("enabled"),
            Long("expiresAt", "1900000000") with { Bad = ["-1", "253402300800"] })) with { Path = [OrgId] },
        Provider("PUT", "/organizations/{orgId}/limits", BodySpec.Provider(
            Obj("callThreshold", Long("calls"), Long("windowSeconds"), Int("warnAtPercent", "80") with { Bad = ["0", "101", "-1"] }),
            Obj("rates", Obj("light", Int("perSecond"), Int("perHour")), Obj("medium", Int("perSecond"), Int("perHour")),
                Obj("heavy", Int("perMinute"), Int("perHour"))),
            Int("sandboxDailyQuota") with { Bad = ["-1"] })) with { Path = [OrgId] },
        Provider("POST", "/organizations/{orgId}/admins", BodySpec.Provider(Account("username", "\"admin2@test.example\""), Password(),
            Enum("role", "SUPER_ADMIN", "READ_ONLY"))) with { Path = [OrgId] },
        Provider("GET", "/organizations/{orgId}/audit") with
        {
            Path = [OrgId],
            Query = [new("after", v => v.Length == 0 || IsCanonicalOrEmpty(v, n => n >= 0)), new("limit", v => IsCanonicalOrEmpty(v, n => n is >= 1 and <= 100))],
        },
        Provider("GET", "/organizations/{orgId}/usage") with { Path = [OrgId] },
        Provider("POST", "/organizations/{orgId}/apiKeys/{keyId}/disable", BodySpec.Provider(
            Enum("reason", "TERMS_VIOLATION", "OTHER"), Str("note", 1000, "\"reported abuse\"") with { Nullable = true })) with { Path = [OrgId, KeyId] },
        Provider("POST", "/organizations/{orgId}/apiKeys/{keyId}/enable", BodySpec.ProviderOptional()) with { Path = [OrgId, KeyId] },
        Provider("PUT", "/organizations/{orgId}/webhooks", BodySpec.Provider(Webhooks)) with { Path = [OrgId] },
        Provider("PUT", "/serviceProviders/{id}/webhooks", BodySpec.Provider(Webhooks)) with { Path = [SpId] },
        Provider("POST", "/signingKeys/rotate", BodySpec.ProviderOptional()),
        Provider("GET", "/tokens"),
        Provider("POST", "/tokens", BodySpec.Provider(Name(), Long("expiresAt", "1900000000") with { Bad = ["-1", "253402300800", "1"] },
            Long("serviceProviderId") with { Bad = ["0", "-1", "999999999"] })),
        Provider("POST", "/tokens/{id}/rotate", BodySpec.ProviderOptional(Int("graceSeconds", "60") with { Bad = ["-1", "604801"] })) with { Path = [TokenId] },
        Provider("DELETE", "/tokens/{id}") with { Path = [TokenId] },
        Provider("GET", "/staff"),
        Provider("PATCH", "/staff/{id}", BodySpec.Provider(Bool("disabled") with { Nullable = true },
            Password() with { Nullable = true })) with { Path = [StaffId] },
        Provider("DELETE", "/staff/{id}") with { Path = [StaffId] },
        Provider("GET", "/organizations/{orgId}/admins") with { Path = [OrgId] },
        Provider("POST", "/organizations/{orgId}/admins/{adminId}/resetPassword", BodySpec.ProviderOptional()) with { Path = [OrgId, AdminId] },
        Provider("POST", "/organizations/{orgId}/suspend", BodySpec.Provider(Str("note", 1000, "\"unpaid\"") with { Nullable = true })) with { Path = [OrgId] },
        Provider("POST", "/organizations/{orgId}/resume", BodySpec.ProviderOptional()) with { Path = [OrgId] },
        Provider("DELETE", "/organizations/{orgId}") with { Path = [OrgId] },

        // ------------------------------------------------------------ gateway (contract A7)
        // Any other /api/v1 path goes to the upstream, whose inputs are its own business; with no upstream route for a
        // path (none in the test host), any path and any body is the contract's 404.
        Legacy("*", "/api/v1/{**path}") with
        {
            Custom = _ => Gen.Select(Gen.OneOf("GET", "POST", "PUT", "DELETE"), BadInput.BadIds, BadInput.Bodies(BodySpec.LegacyOptional()))
                .Select((method, id, b) => new BadCase($"{method} no route, {b.Label}", method, $"/api/v1/no-such-route/{id}",
                    method == "GET" ? null : b.Bytes, method == "GET" ? null : BadInput.Json, Expect.NotFound)),
        },
        Legacy("GET", "/gateway/v1/authorize"),
        Open("GET", "/.well-known/jwks.json"),

        // ------------------------------------------------------------ operations and documentation (contract D)
        Open("GET", "/healthz"),
        Open("GET", "/readyz"),
        Open("GET", "/metrics"),
        // The framework's OpenAPI handler writes its own plain-text 404, so only the status is checked there.
        Open("GET", "/openapi/{documentName}.json") with { Path = [("documentName", _ => "v1")], PathStatusOnly = true },
        Open("GET", "/scalar/{documentName?}") with { Path = [("documentName?", _ => "v1")] },
        Open("GET", "/scalar/scalar.js"),
        Open("GET", "/scalar/scalar.aspnetcore.js"),
        Open("GET", "/scalar/favicon.svg"),
    ];

    public static RouteEntry Find(string key) => All.Single(r => r.Key == key);
}
