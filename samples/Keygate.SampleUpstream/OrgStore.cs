using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.SampleUpstream;

/// <summary>
/// Each org's objects, in memory. An org's data is reachable only through its own <see cref="OrgData"/>, so another
/// org's id answers 404 like a missing one. Ids are unique across orgs, as in the cloud.
/// </summary>
public sealed class OrgStore(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, OrgData> _orgs = new();
    private long _lastId = 100_000;

    public OrgData For(Caller caller) => _orgs.GetOrAdd(caller.OrgId, _ => Seed());

    public long NextId() => Interlocked.Increment(ref _lastId);

    public long Now() => clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Two locations and a Cloud Connector group in each, so the read-only resources answer something.</summary>
    private OrgData Seed()
    {
        Location Location(string name, string country, string tz) =>
            new(NextId(), name, "Seeded by the sample upstream", true, country, tz, "WORKLOAD", 0, 0, [], 0, true);
        var locations = new[]
        {
            Location("AWS-CAN-ca-central-1-vpc-sample", "CANADA", "CANADA_AMERICA_TORONTO"),
            Location("AZURE-EU-westeurope-vnet-sample", "NETHERLANDS", "NETHERLANDS_EUROPE_AMSTERDAM"),
        };
        EcGroup Group(string name, Location at, string platform, string? awsZone, string? azureZone) =>
            new(NextId(), name, "Seeded by the sample upstream", "HIGH_AVAILABILITY", ["ENABLED"], platform, awsZone, azureZone, 2, "ENCRYPTED",
                new IdName(at.Id, at.Name), null,
                [new EcVm(NextId(), name + "-vm-1", ["ENABLED"], "ACTIVE", "SMALL"), new EcVm(NextId(), name + "-vm-2", ["ENABLED"], "ACTIVE", "SMALL")]);
        return new OrgData
        {
            Locations = locations,
            EcGroups = [Group("AWS-CAN-ca-central-1-group", locations[0], "AWS", "ca-central-1a", null),
                Group("AZURE-EU-westeurope-group", locations[1], "AZURE", null, "1")],
        };
    }
}

public sealed class OrgData
{
    /// <summary>Guards the two mutable collections.</summary>
    public Lock Sync { get; } = new();
    public required IReadOnlyList<Location> Locations { get; init; }
    public required IReadOnlyList<EcGroup> EcGroups { get; init; }
    public SortedDictionary<long, ProvisioningUrl> ProvUrls { get; } = [];
    public SortedDictionary<long, LocationTemplate> Templates { get; } = [];
}

public static class Listing
{
    /// <summary>GET list, GET /lite (ids and names) and GET /{id} over one of an org's collections.</summary>
    public static void MapReadOnly<T>(this RouteGroupBuilder group, string noun, Func<OrgData, IEnumerable<T>> items, Func<T, IdName> idName)
    {
        group.MapGet("", (Caller caller, OrgStore store, string? search, int? page, int? pageSize) =>
            TypedResults.Ok(Page(items(store.For(caller)), i => idName(i).Name, search, page, pageSize))).WithSummary($"List {noun}s");
        group.MapGet("/lite", (Caller caller, OrgStore store, string? search, int? page, int? pageSize) =>
            TypedResults.Ok(Page(items(store.For(caller)).Select(idName), i => i.Name, search, page, pageSize))).WithSummary($"List the {noun}s' ids and names");
        group.MapGet("/{id:long}", Results<Ok<T>, JsonHttpResult<ApiError>> (long id, Caller caller, OrgStore store) =>
            items(store.For(caller)).FirstOrDefault(i => idName(i).Id == id) is { } item ? TypedResults.Ok(item) : ApiError.NotFound())
            .WithSummary($"Get a {noun}");
    }

    /// <summary>The list parameters the SDKs send: <c>search</c> (part of the name), <c>page</c> (from 1) and <c>pageSize</c>.</summary>
    public static T[] Page<T>(IEnumerable<T> items, Func<T, string> name, string? search, int? page, int? pageSize)
    {
        if (!string.IsNullOrEmpty(search)) items = items.Where(i => name(i).Contains(search, StringComparison.OrdinalIgnoreCase));
        var size = Math.Clamp(pageSize ?? 250, 1, 1000);
        // An SDK pages until a short page: a page past the end must be empty, never the first page again.
        var skip = (Math.Max(page ?? 1, 1) - 1L) * size;
        return skip > int.MaxValue ? [] : items.Skip((int)skip).Take(size).ToArray();
    }
}
