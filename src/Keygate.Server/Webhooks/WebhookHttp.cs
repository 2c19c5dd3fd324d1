using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Keygate.Webhooks;

/// <summary>How a delivery goes over the wire: the guarded connection and the signed request.</summary>
public static class WebhookHttp
{
    public const string ClientName = "webhooks";

    public static SocketsHttpHandler CreateHandler(bool allowPrivateNetworks) => new()
    {
        AllowAutoRedirect = false,
        // Through a proxy the address check would judge the proxy, not the receiver.
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = (context, ct) => ConnectAsync(context.DnsEndPoint, allowPrivateNetworks, ct),
    };

    /// <summary>
    /// Resolves the name itself and connects only to public addresses, so the address checked is the one used:
    /// a DNS answer that changes between a check and the connection (rebinding) cannot slip an inside address in.
    /// </summary>
    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint target, bool allowPrivateNetworks, CancellationToken ct)
    {
        var addresses = await Dns.GetHostAddressesAsync(target.Host, ct);
        var allowed = allowPrivateNetworks ? addresses : addresses.Where(PublicAddress.IsPublic).ToArray();
        if (allowed.Length == 0) throw new AddressRefusedException();
        Exception? last = null;
        foreach (var address in allowed)
        {
            Socket? socket = null;
            try
            {
                socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(address, target.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket?.Dispose();
                last = e;
            }
            catch
            {
                socket?.Dispose();
                throw;
            }
        }
        throw last!;
    }

    /// <summary>POST of the exact body, signed as <c>sha256=hex(HMAC-SHA256(secret, "timestamp.body"))</c>.</summary>
    public static HttpRequestMessage Request(string url, string body, string secret, long timestampSeconds)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        var timestamp = timestampSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        request.Headers.Add("X-Keygate-Timestamp", timestamp);
        request.Headers.Add("X-Keygate-Signature", "sha256=" + Signature(secret, timestamp, bytes));
        return request;
    }

    public static string Signature(string secret, string timestamp, byte[] body)
    {
        var signed = new byte[timestamp.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(timestamp, signed);
        signed[timestamp.Length] = (byte)'.';
        body.CopyTo(signed, timestamp.Length + 1);
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }
}

/// <summary>The receiver's name resolved only to addresses webhooks may not reach.</summary>
public sealed class AddressRefusedException() : IOException("The receiver's address is not a public address.");
