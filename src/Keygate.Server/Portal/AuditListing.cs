using Keygate.Audit;

namespace Keygate.Portal;

/// <summary>One page of an org's audit log as the portal and console show it, with links to page on.</summary>
public sealed record AuditListing(AuditPage Page, string Path, bool IsFirst, string? Limit)
{
    public string? NextHref => Page.Next is { } next ? $"{Path}?after={next}{LimitQuery}" : null;
    public string? FirstHref => IsFirst ? null : $"{Path}{(Limit is null ? "" : $"?limit={Limit}")}";
    private string LimitQuery => Limit is null ? "" : $"&limit={Uri.EscapeDataString(Limit)}";

    public static string Time(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'");
}
