using System.Net;
using System.Net.Sockets;

namespace Keygate.Webhooks;

/// <summary>
/// The addresses webhooks may be delivered to: public unicast only. It is asked about the address actually
/// connected to, after DNS resolution, so a name that resolves (or re-resolves) to an inside address gets nowhere.
/// </summary>
public static class PublicAddress
{
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> b = stackalloc byte[16];
        if (!address.TryWriteBytes(b, out var length)) return false;
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork when length == 4 => IsPublicV4(b[..4]),
            AddressFamily.InterNetworkV6 when length == 16 => IsPublicV6(b),
            _ => false,
        };
    }

    private static bool IsPublicV4(ReadOnlySpan<byte> b) => !(
        b[0] == 0                                   // 0.0.0.0/8 "this network", with the unspecified address
        || b[0] == 10                               // 10/8 private
        || b[0] == 127                              // loopback
        || (b[0] == 100 && (b[1] & 0xC0) == 64)     // 100.64/10 carrier-grade NAT
        || (b[0] == 169 && b[1] == 254)             // 169.254/16 link-local, with the cloud metadata address 169.254.169.254
        || (b[0] == 172 && (b[1] & 0xF0) == 16)     // 172.16/12 private
        || (b[0] == 192 && b[1] == 168)             // 192.168/16 private
        || (b[0] == 192 && b[1] == 0 && b[2] == 0)  // 192.0.0/24 protocol assignments
        || (b[0] == 198 && (b[1] & 0xFE) == 18)     // 198.18/15 benchmarking
        || b[0] >= 224);                            // multicast, reserved and broadcast

    private static bool IsPublicV6(ReadOnlySpan<byte> b)
    {
        if (b[..12].IndexOfAnyExcept((byte)0) < 0) return false;      // ::/96: unspecified, loopback, IPv4-compatible
        if ((b[0] & 0xFE) == 0xFC) return false;                        // fc00::/7 unique local (also fd00:ec2::254)
        if (b[0] == 0xFE && (b[1] & 0x80) == 0x80) return false;        // fe80::/10 link-local, fec0::/10 site-local
        if (b[0] == 0xFF) return false;                                 // multicast
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return false; // 2001:db8::/32 documentation
        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they embed, so that one decides.
        if (b[..12].SequenceEqual(Nat64Prefix)) return IsPublicV4(b[12..]);
        if (b[0] == 0x20 && b[1] == 0x02) return IsPublicV4(b[2..6]);
        return true;
    }

    private static ReadOnlySpan<byte> Nat64Prefix => [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0];
}
