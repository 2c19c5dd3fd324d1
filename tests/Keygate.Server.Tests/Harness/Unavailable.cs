using System.Net;

namespace Keygate.Tests;

/// <summary>
/// What a node answers while its database is unreachable: 503 SERVICE_UNAVAILABLE in the shape of the API that was
/// called, and soon. The node's connect timeout is 2 s and its command timeout 5 s (<see cref="KeygateApp.ThroughProxy"/>),
/// so an answer that takes longer than <see cref="HangBound"/> is a hang; the bound is a wait, not a timing claim.
/// </summary>
public static class Unavailable
{
    public static readonly TimeSpan HangBound = TimeSpan.FromSeconds(30);

    /// <summary>Legacy routes answer {code,message} (contract A), as JSON, never problem details.</summary>
    public static async Task AssertLegacy(Task<HttpResponseMessage> request)
    {
        var r = await request.WaitAsync(HangBound);
        var json = await r.AssertError(HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE");
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["code", "message"], json.EnumerateObject().Select(p => p.Name).Order());
    }

    /// <summary>Keygate's own endpoints answer RFC 9457 problem details with the stable code (contract C).</summary>
    public static async Task AssertProblem(Task<HttpResponseMessage> request)
    {
        var r = await request.WaitAsync(HangBound);
        var json = await r.AssertError(HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal(503, json.GetProperty("status").GetInt32());
        Assert.True(json.TryGetProperty("traceId", out _));
    }

    /// <summary>The portal answers a page a person can read, which names the stable code for support.</summary>
    public static async Task AssertPortal(Task<HttpResponseMessage> request)
    {
        var r = await request.WaitAsync(HangBound);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.ServiceUnavailable, $"expected 503, got {(int)r.StatusCode}: {body}");
        Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
        Assert.Contains("data-error-code=\"SERVICE_UNAVAILABLE\"", body);
    }
}
