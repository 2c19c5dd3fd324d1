using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Keygate.Cli;

/// <summary>An answer of the server that was not an error.</summary>
public sealed record ApiResponse(int Status, string Body, HttpResponseHeaders Headers)
{
    public JsonElement Json() => Body.Length == 0 ? default : JsonDocument.Parse(Body).RootElement.Clone();
    public T As<T>() => JsonSerializer.Deserialize<T>(Body, ApiClient.JsonOptions)
        ?? throw new CliException(ExitCodes.ServerOrNetwork, "The server answered an empty body.");
}

/// <summary>
/// A thin HTTP client over Keygate's public API. It turns every error answer into an <see cref="ApiException"/>
/// with the server's code and message, and answers a 429 with exactly one retry after Retry-After.
/// </summary>
public sealed class ApiClient : IDisposable
{
    /// <summary>The longest Retry-After the CLI waits out before its one retry; a longer one fails at once.</summary>
    public static readonly TimeSpan MaxRetryWait = TimeSpan.FromSeconds(60);
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private readonly HttpClient _http;
    private readonly CliEnvironment _env;
    private readonly Action<HttpRequestMessage> _authorize;

    public Uri BaseUrl { get; }

    public ApiClient(CliEnvironment env, Uri baseUrl, Action<HttpRequestMessage> authorize)
    {
        _env = env;
        _authorize = authorize;
        BaseUrl = baseUrl;
        _http = new HttpClient(env.CreateHandler(), disposeHandler: true) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(100) };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("keygate-cli", typeof(ApiClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    /// <summary>
    /// Accepts "https://host", "https://host/" or the org's base URL "https://host/api/v1" and answers the
    /// server's root with a trailing slash, so relative paths keep any path prefix of a reverse proxy.
    /// </summary>
    public static Uri NormalizeUrl(string url)
    {
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(u.Query))
            throw new CliException(ExitCodes.Usage, $"'{url}' is not an http(s) URL.");
        var path = u.AbsolutePath.TrimEnd('/');
        if (path.EndsWith("/api/v1", StringComparison.OrdinalIgnoreCase)) path = path[..^"/api/v1".Length];
        return new UriBuilder(u) { Path = path + "/", Fragment = "" }.Uri;
    }

    public Task<ApiResponse> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);
    public Task<ApiResponse> PostAsync(string path, object? body, CancellationToken ct) => SendAsync(HttpMethod.Post, path, body, ct);
    public Task<ApiResponse> PutAsync(string path, object? body, CancellationToken ct) => SendAsync(HttpMethod.Put, path, body, ct);
    public Task<ApiResponse> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, ct);

    /// <summary>Sends the request; a 429 is retried once after its Retry-After (at most <see cref="MaxRetryWait"/>).</summary>
    public Task<ApiResponse> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct) =>
        SendJsonAsync(method, path, body is null ? null : JsonSerializer.Serialize(body, JsonOptions), ct);

    /// <summary>As <see cref="SendAsync"/>, with a JSON body given as text (sent as it is).</summary>
    public async Task<ApiResponse> SendJsonAsync(HttpMethod method, string path, string? json, CancellationToken ct)
    {
        var (response, text) = await SendOnceAsync(method, path, json, ct);
        var retried = false;
        if (response.StatusCode == HttpStatusCode.TooManyRequests && RetryAfter(response, text) is { } wait && wait <= MaxRetryWait)
        {
            _env.Error.WriteLine($"Rate limited; retrying once in {wait.TotalSeconds:0} s.");
            await _env.Delay(wait, ct);
            response.Dispose();
            (response, text) = await SendOnceAsync(method, path, json, ct);
            retried = true;
        }
        using (response)
        {
            if ((int)response.StatusCode >= 400) throw Error(response, text, retried);
            return new ApiResponse((int)response.StatusCode, text, response.Headers);
        }
    }

    private async Task<(HttpResponseMessage, string)> SendOnceAsync(HttpMethod method, string path, string? json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        _authorize(request);
        try
        {
            var response = await _http.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            return (response, text);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.ServerOrNetwork, $"Cannot reach {BaseUrl}: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.ServerOrNetwork, $"{BaseUrl} did not answer in time.");
        }
    }

    /// <summary>Retry-After as seconds or a date; else the legacy body's "Retry-After": "N seconds".</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage r, string body)
    {
        if (r.Headers.RetryAfter is { } h)
        {
            if (h.Delta is { } d) return d < TimeSpan.Zero ? TimeSpan.Zero : d;
            if (h.Date is { } date) return date - _env.Clock.GetUtcNow() is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
        if (TryParse(body) is { } json && json.TryGetProperty("Retry-After", out var v) && v.ValueKind == JsonValueKind.String
            && int.TryParse(v.GetString()!.Split(' ')[0], out var s))
            return TimeSpan.FromSeconds(s);
        return null;
    }

    /// <summary>Legacy errors are {code,message}; Keygate's own are ProblemDetails {code,detail,title}.</summary>
    private static ApiException Error(HttpResponseMessage r, string body, bool retried)
    {
        var status = (int)r.StatusCode;
        string? code = null, message = null;
        if (TryParse(body) is { ValueKind: JsonValueKind.Object } json)
        {
            code = Str(json, "code");
            message = Str(json, "message") ?? Str(json, "detail") ?? Str(json, "title");
            if (json.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                var fields = errors.EnumerateObject().Select(f => f.Value.ValueKind == JsonValueKind.Array
                    ? $"{f.Name}: {string.Join(" ", f.Value.EnumerateArray().Select(x => x.ToString()))}" : f.Name);
                message = $"{message} ({string.Join("; ", fields)})";
            }
        }
        code ??= status switch
        {
            401 => "UNAUTHORIZED", 403 => "ACCESS_DENIED", 404 => "RESOURCE_NOT_FOUND", 429 => "RATE_LIMIT_EXCEEDED",
            >= 500 => "SERVER_ERROR", _ => "HTTP_" + status,
        };
        message ??= r.ReasonPhrase ?? "The server refused the request.";
        var wait = r.Headers.RetryAfter?.Delta;
        var after = wait is { } w ? $"try again in {w.TotalSeconds:0} s" : "try again later";
        var hint = status != 429 ? null : retried ? $"The request was retried once; {after}." : $"Not retried (the wait is over {MaxRetryWait.TotalSeconds:0} s); {after}.";
        return new ApiException(status, code, message, hint);
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static JsonElement? TryParse(string body)
    {
        if (body.Length == 0) return null;
        try { return JsonDocument.Parse(body).RootElement.Clone(); }
        catch (JsonException) { return null; }
    }

    public void Dispose() => _http.Dispose();
}
