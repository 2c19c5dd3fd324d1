using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Keygate.Tests;

/// <summary>
/// A loopback TCP forwarder in front of a real server (PostgreSQL), so a test can take the network away from a
/// running node and give it back. <see cref="Cut"/> resets every open connection and stops listening, so new
/// connections are refused at once rather than left hanging; <see cref="Restore"/> listens again on the same port.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    /// <summary>The simple-protocol Query message "COMMIT" ('Q', length 11), which "READ COMMITTED" never matches.</summary>
    private static readonly byte[] Commit = [(byte)'Q', 0, 0, 0, 11, .. "COMMIT"u8, 0];
    private readonly IPEndPoint _target;
    private readonly Lock _gate = new();
    private readonly HashSet<Socket> _open = [];
    private TcpListener? _listener;
    private byte[]? _commitMarker;
    private byte[]? _sendMarker;
    private bool _disposed;

    public int Port { get; }

    public TcpProxy(string targetHost, int targetPort)
    {
        _target = new IPEndPoint(Dns.GetHostAddresses(targetHost).First(a => a.AddressFamily == AddressFamily.InterNetwork), targetPort);
        Port = Listen(0);
    }

    /// <summary>Resets every open connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        List<Socket> open;
        lock (_gate)
        {
            _commitMarker = null;
            _sendMarker = null;
            _listener?.Stop();
            _listener = null;
            open = [.. _open];
            _open.Clear();
        }
        foreach (var s in open) Close(s);
    }

    /// <summary>
    /// The worst moment of an outage: the next transaction whose statements mention <paramref name="marker"/>
    /// reaches the server's COMMIT, the server commits, and its answer is lost with the whole network. The client
    /// cannot know whether its change happened.
    /// </summary>
    public void CutWhenCommitting(string marker)
    {
        lock (_gate) _commitMarker = Encoding.UTF8.GetBytes(marker);
    }

    /// <summary>
    /// The next statement that mentions <paramref name="marker"/> never reaches the server: the network goes as the
    /// node sends it, in the middle of its transaction.
    /// </summary>
    public void CutWhenSending(string marker)
    {
        lock (_gate) _sendMarker = Encoding.UTF8.GetBytes(marker);
    }

    public void Restore()
    {
        lock (_gate)
        {
            if (_listener is null && !_disposed) Listen(Port);
        }
    }

    private int Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        // The port is taken again right after a cut, while its closed connections may still be in TIME_WAIT.
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _ = AcceptLoopAsync(listener);
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (true)
        {
            Socket client;
            try { client = await listener.AcceptSocketAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = ForwardAsync(listener, client);
        }
    }

    private async Task ForwardAsync(TcpListener listener, Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try { await server.ConnectAsync(_target); }
        catch (SocketException) { Close(client); Close(server); return; }
        lock (_gate)
        {
            // A cut that happened while this connection was being set up applies to it too.
            if (_listener != listener) { Close(client); Close(server); return; }
            _open.Add(client);
            _open.Add(server);
        }
        var link = new Link();
        await Task.WhenAny(PumpAsync(client, server, link, toServer: true), PumpAsync(server, client, link, toServer: false));
        lock (_gate) { _open.Remove(client); _open.Remove(server); }
        Close(client);
        Close(server);
    }

    /// <summary>What one connection has sent in its current transaction, for <see cref="CutWhenCommitting"/>.</summary>
    private sealed class Link
    {
        public bool SawMarker;
        public volatile bool AwaitingCommitAnswer;
    }

    private async Task PumpAsync(Socket from, Socket to, Link link, bool toServer)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0) return;
                var chunk = buffer.AsSpan(0, n);
                if (!toServer && link.AwaitingCommitAnswer)
                {
                    Cut(); // the server has committed; its answer goes nowhere
                    return;
                }
                if (toServer && Watch(chunk, link))
                {
                    Cut(); // this statement goes nowhere
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    /// <summary>Notes what the node sends for the armed faults; true when this chunk must be dropped with a cut.</summary>
    private bool Watch(ReadOnlySpan<byte> chunk, Link link)
    {
        byte[]? commitMarker, sendMarker;
        lock (_gate) (commitMarker, sendMarker) = (_commitMarker, _sendMarker);
        if (sendMarker is not null && chunk.IndexOf(sendMarker) >= 0) return true;
        if (commitMarker is null) return false;
        if (chunk.IndexOf(commitMarker) >= 0) link.SawMarker = true;
        if (chunk.IndexOf(Commit) < 0) return false;
        if (link.SawMarker) link.AwaitingCommitAnswer = true;
        link.SawMarker = false;
        return false;
    }

    /// <summary>A reset, not a polite close: to the node this looks like the network or the server going away.</summary>
    private static void Close(Socket s)
    {
        try { s.LingerState = new LingerOption(true, 0); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        s.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate) _disposed = true;
        Cut();
        return ValueTask.CompletedTask;
    }
}
