using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keygate.Tests;

/// <summary>One request the upstream read to its end.</summary>
public sealed record Received(string Query, string? ContentType, long? ContentLength, long Bytes, string Sha256);

/// <summary>
/// A real sandbox stand-in on Kestrel loopback (random port). It reads each body as a stream, counting and
/// hashing as it goes, and records what it saw; it answers 201 with a small JSON, or ?status=N with a text body.
/// Its own log lines (the host's request lines included) are captured too.
/// </summary>
public sealed class SandboxUpstream : IAsyncDisposable
{
    private WebApplication _app = null!;
    private int _started;

    public ConcurrentQueue<Received> Requests { get; } = new();
    public ConcurrentQueue<string> Logs { get; } = new();
    public string Url { get; private set; } = "";
    public int Started => _started;

    public static async Task<SandboxUpstream> StartAsync()
    {
        var upstream = new SandboxUpstream();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Logging.ClearProviders();
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Information);
        builder.Logging.AddProvider(new CapturingLoggerProvider(upstream.Logs));
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        app.MapPost("/{**path}", upstream.ReceiveAsync);
        await app.StartAsync();
        upstream._app = app;
        upstream.Url = app.Urls.Single() + "/sandbox/submit";
        return upstream;
    }

    public Received? Find(string tag) => Requests.SingleOrDefault(r => r.Query.Contains(tag));

    private async Task ReceiveAsync(HttpContext ctx)
    {
        Interlocked.Increment(ref _started);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }
        var hash = Convert.ToHexStringLower(sha.GetHashAndReset());
        var r = ctx.Request;
        Requests.Enqueue(new Received(r.QueryString.Value ?? "", r.ContentType, r.ContentLength, total, hash));
        if (r.Query["status"] is [{ } status])
        {
            ctx.Response.StatusCode = int.Parse(status);
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync("upstream says no");
            return;
        }
        ctx.Response.StatusCode = 201;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync($$"""{"received":{{total}},"sha256":"{{hash}}"}""");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// A file produced on the fly: deterministic bytes, never held in memory, readable exactly once. It refuses to
/// seek and throws when read again after its end, so a server that buffers or rewinds it fails the test.
/// </summary>
public sealed class GeneratedFile(long length, byte seed = 7) : Stream
{
    private long _position;
    private bool _ended;

    public static string Sha256Of(long length, byte seed = 7)
    {
        using var file = new GeneratedFile(length, seed);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_ended) throw new InvalidOperationException("The file was read a second time.");
        var n = (int)Math.Min(buffer.Length, length - _position);
        for (var i = 0; i < n; i++)
        {
            var p = _position + i;
            buffer[i] = (byte)((p * 2654435761L >> 13) ^ p ^ seed);
        }
        _position += n;
        if (n == 0) _ended = true;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => Task.FromResult(Read(buffer, offset, count));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new InvalidOperationException("The file was rewound."); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new InvalidOperationException("The file was rewound.");
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
