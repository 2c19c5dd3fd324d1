using Microsoft.AspNetCore.Diagnostics;

namespace Keygate.Sandbox;

/// <summary>
/// The upstream's answer, relayed as it arrives: status, content type and body. A result of its own because
/// TypedResults has nothing that passes another server's status and body through without buffering them.
/// </summary>
public sealed class UpstreamRelay(HttpResponseMessage upstream) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => (int)upstream.StatusCode;

    public async Task ExecuteAsync(HttpContext http)
    {
        using var request = upstream.RequestMessage;
        using var response = upstream;
        // The upstream's own error bodies (or their absence) are relayed as they are, not replaced by ours.
        if (http.Features.Get<IStatusCodePagesFeature>() is { } pages) pages.Enabled = false;
        http.Response.StatusCode = (int)response.StatusCode;
        var headers = response.Content.Headers;
        if (headers.ContentType is { } type) http.Response.ContentType = type.ToString();
        if (headers.ContentLength is { } length) http.Response.ContentLength = length;
        await using var body = await response.Content.ReadAsStreamAsync(http.RequestAborted);
        await body.CopyToAsync(http.Response.Body, http.RequestAborted);
    }
}
