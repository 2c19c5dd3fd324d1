namespace Keygate.SampleUpstream;

/// <summary>A Cloud &amp; Branch Connector location: a subset of zscaler/ztw/models/location_management.py.</summary>
public sealed record Location(long Id, string Name, string Description, bool EcLocation, string Country, string Tz,
    string Profile, int UpBandwidth, int DnBandwidth, string[] IpAddresses, long ParentId, bool NonEditable);

/// <summary>Locations: read-only here, seeded per org.</summary>
public static class LocationsApi
{
    public const string Feature = "EDGE_CONNECTOR_LOCATION_MANAGEMENT";

    public static void MapLocations(this RouteGroupBuilder api) =>
        api.MapGroup("/location").RequireFeature(Feature).WithTags("Locations")
            .MapReadOnly("location", org => org.Locations, l => new IdName(l.Id, l.Name));
}
