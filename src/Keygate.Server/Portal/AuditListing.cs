using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Http.Extensions;

namespace Keygate.Portal;

/// <summary>
/// One page of an org's audit log as the portal and console show it (newest first), with the filter it was
/// read with and links to page on that keep the filter.
/// </summary>
public sealed record AuditListing(AuditPage Page, string Path, AuditFilter Filter, bool IsFirst, string? Limit)
{
    public string? NextHref => Page.Next is { } next ? Href(("before", next)) : null;
    public string? FirstHref => IsFirst ? null : Href();

    /// <summary>Only the newest few, without filter or paging (the console's organization page).</summary>
    public bool Compact { get; init; }

    private string Href(params (string Name, string Value)[] extra)
    {
        var query = new QueryBuilder(Filter.Query());
        foreach (var (name, value) in extra) query.Add(name, value);
        if (Limit is not null) query.Add("limit", Limit);
        return Path + query.ToQueryString();
    }

    /// <summary>The page the request asks for; or, with the error that says which parameter is wrong, an empty
    /// one that still shows the filter form as it was typed.</summary>
    public static async Task<(AuditListing Listing, KeygateError? Error)> ReadAsync(AppDbContext db, long orgId, string path,
        AuditFilter filter, string? before, string? limit)
    {
        var (page, error) = await AuditSearch.ReadNewestAsync(db, orgId, filter, before, limit);
        return (new AuditListing(page ?? new AuditPage([], null), path, filter, string.IsNullOrEmpty(before) || error is not null, limit), error);
    }

    /// <summary>An event's detail ("key=value key=value"), which may wrap between a key and its value but never inside either.</summary>
    public static IHtmlContent Detail(string detail) =>
        new HtmlString(string.Join("=<wbr>", detail.Split('=').Select(part => HtmlEncoder.Default.Encode(part))));

    public static string Day(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd");
    public static string TimeOfDay(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("HH:mm:ss 'UTC'");

    public static string Time(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'");

    /// <summary>The outcome choices of the filter form.</summary>
    public static readonly (string Value, string Label)[] Outcomes =
        [("", "Any outcome"), (AuditLog.Success, "Succeeded"), (AuditFilter.Refused, "Refused")];
}
