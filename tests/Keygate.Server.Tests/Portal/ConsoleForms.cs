using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Tests;

/// <summary>The console's forms over HTTP: a post to a page's handler, the secret a page shows once, the error it shows, the audit it wrote.</summary>
public static partial class ConsoleForms
{
    public const string Tokens = "/console/tokens";
    public const string Staff = "/console/staff";

    public static Task<HttpResponseMessage> PostHandlerAsync(this HttpClient c, string page, string handler, Dictionary<string, string>? fields = null,
        bool forged = false) =>
        c.PostFormAsync(page, $"{page}?handler={handler}", fields ?? [], forged);

    [GeneratedRegex("data-secret data-copy-value=\"([^\"]+)\"")]
    private static partial Regex Secret();

    /// <summary>The secret (a new token, a temporary password) the answer shows once.</summary>
    public static async Task<string> SecretOfAsync(HttpResponseMessage r)
    {
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var m = Secret().Match(await r.Content.ReadAsStringAsync());
        Assert.True(m.Success, "the answer shows no secret");
        return WebUtility.HtmlDecode(m.Groups[1].Value);
    }

    /// <summary>Asserts a refusal shown on the page: its status, its error code and its message.</summary>
    public static async Task<string> AssertRefusedAsync(HttpResponseMessage r, HttpStatusCode status, string code, string message)
    {
        Assert.Equal(status, r.StatusCode);
        var html = await r.Content.ReadAsStringAsync();
        Assert.Contains($"data-error-code=\"{code}\"", html);
        Assert.Contains(message, WebUtility.HtmlDecode(html));
        return html;
    }

    public static void AssertRedirect(HttpResponseMessage r, string to)
    {
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.Equal(to, r.Headers.Location!.OriginalString);
    }

    /// <summary>How many audit events of this action, outcome and detail there are (detail matched by substring).</summary>
    public static async Task<int> AuditCountAsync(this KeygateApp app, string action, string detail, string outcome = "SUCCESS")
    {
        await using var db = app.OpenDatabase();
        return await db.AuditEvents.CountAsync(e => e.Action == action && e.Outcome == outcome && e.Detail.Contains(detail));
    }

    /// <summary>A token made through the provider API: its id and value.</summary>
    public static async Task<(long Id, string Token)> CreateTokenAsync(this KeygateApp app, string? token = null, string name = "test token")
    {
        var body = await (await app.Provider(token).PostAsync("/provider/v1/tokens", Scenario.Json(new { name }))).AssertOk(HttpStatusCode.Created);
        return (body.GetProperty("id").GetInt64(), body.GetProperty("token").GetString()!);
    }

    public static async Task<HttpStatusCode> ProviderStatusAsync(this KeygateApp app, string token)
    {
        using var c = app.Provider(token);
        return (await c.GetAsync("/provider/v1/tokens")).StatusCode;
    }
}
