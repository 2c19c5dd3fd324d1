using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keygate.Tests;

public sealed record ReceivedWebhook(string Path, string Body, string? Timestamp, string? Signature, string? ContentType, int AnsweredWith)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
    public string Type => Json.GetProperty("type").GetString()!;
    public string EventId => Json.GetProperty("id").GetString()!;
    public bool Delivered => AnsweredWith == 200;

    /// <summary>Contract B, written independently of the server: sha256= lowercase hex HMAC-SHA256(secret, "timestamp.body").</summary>
    public bool IsSignedWith(string secret) =>
        Signature == "sha256=" + Convert.ToHexString(
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{Timestamp}.{Body}"))).ToLowerInvariant();
}

/// <summary>A real HTTP receiver on loopback (Kestrel, random port) that records every request and can fail the first N.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;

    public ConcurrentQueue<ReceivedWebhook> Requests { get; } = new();
    public string BaseUrl { get; private set; } = "";
    public int Port => new Uri(BaseUrl).Port;

    private WebhookReceiver(int failFirst)
    {
        _failuresLeft = failFirst;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Urls.Add("http://127.0.0.1:0");
        _app.MapPost("/{**path}", async (HttpRequest r) =>
        {
            using var reader = new StreamReader(r.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var fail = Interlocked.Decrement(ref _failuresLeft) >= 0;
            Requests.Enqueue(new ReceivedWebhook(r.Path, body, r.Headers["X-Keygate-Timestamp"], r.Headers["X-Keygate-Signature"],
                r.ContentType, fail ? 500 : 200));
            return fail ? Results.StatusCode(500) : Results.Ok();
        });
    }

    public static async Task<WebhookReceiver> StartAsync(int failFirst = 0)
    {
        var receiver = new WebhookReceiver(failFirst);
        await receiver._app.StartAsync();
        receiver.BaseUrl = receiver._app.Urls.First().TrimEnd('/');
        return receiver;
    }

    public string Url(string path = "/hook") => BaseUrl + path;

    /// <summary>Answers 500 to the next <paramref name="n"/> requests (0: answer 200 from now on).</summary>
    public void FailNext(int n) => Volatile.Write(ref _failuresLeft, n);

    public ReceivedWebhook[] Delivered(string? path = null) =>
        Requests.Where(r => r.Delivered && (path is null || r.Path == path)).ToArray();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
