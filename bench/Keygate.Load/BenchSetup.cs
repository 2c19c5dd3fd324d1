using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Keygate.Load;

/// <summary>
/// Prepares the benchmark organization the way an operator and an org admin would: provider API (create the
/// org, turn its subscription on, raise its limits), the portal (read the key), then a legacy login. Leaves
/// in the output folder: session.txt (a live JSESSIONID), login.json (a login body, valid for the 2-hour
/// timestamp window) and key-id.txt.
/// </summary>
public static partial class BenchSetup
{
    public const string Username = "bench@bench.example";
    private const string KeyPage = "/admin/api-configuration/legacy-api/cloud-branch-connector-api";
    private const int Huge = 1_000_000_000;

    public static async Task<int> RunAsync(Uri baseUrl, string operatorToken, string outDir)
    {
        var password = "Bench-" + RandomNumberGenerator.GetHexString(16);
        using var provider = new HttpClient { BaseAddress = baseUrl };
        provider.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", operatorToken);

        var org = await Ok<JsonObject>(await provider.PostAsJsonAsync("/provider/v1/organizations",
            new { name = "Bench Org", admin = new { username = Username, password } }), "create org");
        var orgId = (long)org["id"]!;
        await Ok<JsonObject>(await provider.PutAsJsonAsync($"/provider/v1/organizations/{orgId}/subscription",
            new { enabled = true, expiresAt = (long?)null }), "subscription");
        // Every call of the benchmark must pass: no rate limit, no threshold, no warning event.
        await Ok<JsonObject>(await provider.PutAsJsonAsync($"/provider/v1/organizations/{orgId}/limits", new
        {
            callThreshold = new { calls = 1_000_000_000_000, windowSeconds = 86_400, warnAtPercent = 100 },
            rates = new { light = new { perSecond = Huge, perHour = Huge }, medium = new { perSecond = Huge, perHour = Huge } },
        }), "limits");

        var key = await ReadKeyFromPortalAsync(baseUrl, password);
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString();
        var loginBody = new JsonObject
        {
            ["apiKey"] = Obfuscation.Obfuscate(key, timestamp), ["username"] = Username, ["password"] = password, ["timestamp"] = timestamp,
        }.ToJsonString();

        using var legacy = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = baseUrl };
        var login = await legacy.PostAsync("/api/v1/auth", new StringContent(loginBody, MediaTypeHeaderValue.Parse("application/json")));
        await Ok<JsonObject>(login, "legacy login");
        var session = SessionCookie().Match(login.Headers.GetValues("Set-Cookie").First()).Groups[1].Value;

        using var list = new HttpRequestMessage(HttpMethod.Get, "/api/v1/apiKeys");
        list.Headers.Add("Cookie", "JSESSIONID=" + session);
        var keys = await Ok<JsonArray>(await legacy.SendAsync(list), "list keys");
        if ((string?)keys[0]!["keyValue"] != key) throw new InvalidOperationException("The API and the portal disagree on the key.");

        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "session.txt"), session);
        await File.WriteAllTextAsync(Path.Combine(outDir, "login.json"), loginBody);
        await File.WriteAllTextAsync(Path.Combine(outDir, "key-id.txt"), ((long)keys[0]!["id"]!).ToString());
        Console.WriteLine($"bench org {orgId} ready: key id {keys[0]!["id"]}, session and login body in {outDir}");
        return 0;
    }

    /// <summary>The provider API never shows key values: the org admin reads it in the portal, as a person would.</summary>
    private static async Task<string> ReadKeyFromPortalAsync(Uri baseUrl, string password)
    {
        using var portal = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = baseUrl };
        var form = await portal.GetStringAsync("/login");
        var post = await portal.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = Username, ["password"] = password,
            ["__RequestVerificationToken"] = Antiforgery().Match(form).Groups[1].Value,
        }));
        if (post.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"portal login answered {(int)post.StatusCode}");
        var page = await portal.GetStringAsync(KeyPage);
        return KeyValue().Match(page) is { Success: true } m ? m.Groups[1].Value
            : throw new InvalidOperationException("No Cloud Service key on the portal page.");
    }

    private static async Task<T> Ok<T>(HttpResponseMessage r, string step) where T : JsonNode
    {
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"{step}: {(int)r.StatusCode} {text}");
        return JsonNode.Parse(text) as T ?? throw new InvalidOperationException($"{step}: unexpected body {text}");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Antiforgery();

    [GeneratedRegex("data-key-value=\"([A-Za-z0-9]{12})\"")]
    private static partial Regex KeyValue();

    [GeneratedRegex("JSESSIONID=(.*?);")]
    private static partial Regex SessionCookie();
}
