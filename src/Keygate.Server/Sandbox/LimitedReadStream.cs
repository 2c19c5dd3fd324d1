namespace Keygate.Sandbox;

/// <summary>
/// Passes the request body through to the upstream while counting it. Past <c>max</c> bytes it stops the
/// transfer (a chunked body has no Content-Length to check up front); a failure to read the client's body is
/// kept apart from the upstream's failures, so each gets its own answer.
/// </summary>
public sealed class LimitedReadStream(Stream inner, long max) : Stream
{
    public long BytesRead { get; private set; }
    public bool Exceeded { get; private set; }
    public Exception? ReadError { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        int read;
        try { read = await inner.ReadAsync(buffer, ct); }
        catch (Exception e) { ReadError = e; throw; }
        return Count(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        int read;
        try { read = inner.Read(buffer, offset, count); }
        catch (Exception e) { ReadError = e; throw; }
        return Count(read);
    }

    private int Count(int read)
    {
        BytesRead += read;
        if (BytesRead <= max) return read;
        Exceeded = true;
        throw new InvalidDataException("The file is larger than the limit.");
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
