using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Keygate.Tests;

/// <summary>
/// Bodies stream through the gateway both ways (contract A7). Memory is measured as the bytes the whole process
/// allocates during the transfer (Keygate, the sample upstream and the client share it), so these run alone.
/// </summary>
[Collection(nameof(MachineWide))]
public sealed class GatewayStreamingTests
{
    private const long MiB = 1024 * 1024;
    /// <summary>What a transfer may allocate in the whole process: half the smaller body (measured: about 1 MiB for the 50 MiB download, 2 MiB for the 10 MiB upload).</summary>
    private const long AllocationLimit = 5 * MiB;

    /// <summary>A body of the sample's pattern (byte i is i % 251), made as it is read.</summary>
    internal sealed class PatternStream(long length) : Stream
    {
        private long _position;
        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            for (var i = 0; i < n; i++) buffer[i] = (byte)((_position + i) % 251);
            _position += n;
            return n;
        }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => ValueTask.FromResult(Read(buffer.Span));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => Task.FromResult(Read(buffer.AsSpan(offset, count)));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    internal static string PatternSha256(long length)
    {
        using var s = new PatternStream(length);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }

    /// <summary>Downloads the sample's pattern through the gateway, reading it as it comes: its length and SHA-256.</summary>
    internal static async Task<(long Bytes, string Sha256)> DownloadAsync(HttpClient c, long length)
    {
        using var response = await c.GetAsync($"/api/v1/_diag/download?bytes={length}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        await using (var body = await response.Content.ReadAsStreamAsync())
            for (int n; (n = await body.ReadAsync(buffer)) > 0; total += n) hash.AppendData(buffer, 0, n);
        return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    [Fact]
    public async Task A50MiBDownloadStreamsThroughWithBoundedMemory()
    {
        await using var g = await GatewayHost.StartAsync();
        var c = await g.App.SessionAsync(await g.App.CreateOrgAsync());
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/api/v1/_diag/download?bytes=1024")).StatusCode); // warm the path first

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var (total, sha256) = await DownloadAsync(c, 50 * MiB);
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;

        Assert.Equal(50 * MiB, total);
        Assert.Equal(PatternSha256(50 * MiB), sha256);
        Assert.True(allocated < AllocationLimit, $"{allocated / MiB} MiB allocated while 50 MiB went through");
    }

    [Fact]
    public async Task A10MiBUploadStreamsThroughAndOneByteMoreIs413()
    {
        await using var g = await GatewayHost.StartAsync();
        var c = await g.App.SessionAsync(await g.App.CreateOrgAsync());
        // Gateway routes are legacy routes: a write's body is application/json (contract A2), whatever the upstream does with it.
        var warm = new ByteArrayContent(new byte[16]);
        warm.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await (await c.PostAsync("/api/v1/_diag/upload", warm)).AssertOk(); // warm the path first

        HttpContent Body(long length)
        {
            var content = new StreamContent(new PatternStream(length), 64 * 1024);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            content.Headers.ContentLength = length;
            return content;
        }
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var receipt = await (await c.PostAsync("/api/v1/_diag/upload", Body(10 * MiB))).AssertOk();
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        Assert.Equal(10 * MiB, receipt.GetProperty("received").GetInt64());
        Assert.Equal(PatternSha256(10 * MiB), receipt.GetProperty("sha256").GetString());
        Assert.True(allocated < AllocationLimit, $"{allocated / MiB} MiB allocated while 10 MiB went through");

        var forwarded = g.Upstream.ApiCalls;
        await (await c.PostAsync("/api/v1/_diag/upload", Body(10 * MiB + 1))).AssertError(HttpStatusCode.RequestEntityTooLarge, "REQUEST_TOO_LARGE");
        Assert.Equal(forwarded, g.Upstream.ApiCalls);
    }
}
