using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.SampleUpstream;

/// <summary>A provisioning URL, with the SDK's field names (zscaler/ztw/models/provisioning_url.py).</summary>
public sealed record ProvisioningUrl(long Id, string Name, string? Desc, string ProvUrl, string ProvUrlType, ProvUrlData ProvUrlData,
    IdName[] UsedInEcGroups, string Status, IdName LastModUid, long LastModTime);

/// <summary>The servers are the cloud's (set here); the rest is the caller's.</summary>
public sealed record ProvUrlData(string ZsCloudDomain, long OrgId, string ConfigServer, string RegistrationServer, string ApiServer,
    string PacServer, string? CloudProviderType, string? FormFactor, string? HyperVisors, IdName? LocationTemplate, long LastModTime);

/// <summary>What POST and PUT read; other fields (id, provUrl, status, lastMod…) are the server's and ignored.</summary>
public sealed record ProvUrlInput(string? Name, string? Desc, string? ProvUrlType, ProvUrlDataInput? ProvUrlData);

public sealed record ProvUrlDataInput(string? CloudProviderType, string? FormFactor, string? HyperVisors, IdRef? LocationTemplate);

public sealed record IdRef(long Id);

/// <summary>Provisioning URLs: full CRUD. Answers as the cloud does: 200 with the object on POST and PUT, 204 on DELETE.</summary>
public static class ProvisioningUrlsApi
{
    public const string Feature = "EDGE_CONNECTOR_CLOUD_PROVISIONING";
    private const string CloudDomain = "cloud.example.net";
    private static readonly string[] Types = ["ONPREM", "CLOUD"];
    private static readonly string[] CloudProviders = ["AWS", "AZURE", "GCP"];

    public static void MapProvisioningUrls(this RouteGroupBuilder api)
    {
        var urls = api.MapGroup("/provUrl").RequireFeature(Feature).WithTags("Provisioning URLs");
        urls.MapCrudReads("provisioning URL", org => org.ProvUrls, u => u.Name);
        urls.MapPost("", Create).WithSummary("Create a provisioning URL");
        urls.MapPut("/{id:long}", Update).WithSummary("Update a provisioning URL (fields left out keep their value)");
        urls.MapDelete("/{id:long}", (long id, Caller caller, OrgStore store) => Crud.Delete(store.For(caller), org => org.ProvUrls, id))
            .WithSummary("Delete a provisioning URL");
    }

    private static Results<Ok<ProvisioningUrl>, JsonHttpResult<ApiError>> Create(ProvUrlInput input, Caller caller, OrgStore store) =>
        Crud.Save(store, caller, org => org.ProvUrls, null, (org, id, _) =>
            Build(id, input.Name, input.Desc, input.ProvUrlType ?? "ONPREM", input.ProvUrlData, caller, store, org));

    private static Results<Ok<ProvisioningUrl>, JsonHttpResult<ApiError>> Update(long id, ProvUrlInput input, Caller caller, OrgStore store) =>
        Crud.Save(store, caller, org => org.ProvUrls, id, (org, _, found) =>
        {
            var old = found!;
            var data = input.ProvUrlData ?? new ProvUrlDataInput(old.ProvUrlData.CloudProviderType, old.ProvUrlData.FormFactor,
                old.ProvUrlData.HyperVisors, old.ProvUrlData.LocationTemplate is { } t ? new IdRef(t.Id) : null);
            var made = Build(id, input.Name ?? old.Name, input.Desc ?? old.Desc, input.ProvUrlType ?? old.ProvUrlType, data, caller, store, org);
            return made.Value is { } url ? url with { Status = old.Status } : made;
        });

    private static Made<ProvisioningUrl> Build(long id, string? name, string? desc, string type, ProvUrlDataInput? data, Caller caller,
        OrgStore store, OrgData org)
    {
        var error = Crud.CheckName(name, org.ProvUrls.Values.Where(u => u.Id != id).Select(u => u.Name));
        if (error is null && !Types.Contains(type)) error = ApiError.Invalid("provUrlType must be ONPREM or CLOUD.");
        if (error is null && data?.CloudProviderType is { } provider && !CloudProviders.Contains(provider))
            error = ApiError.Invalid("provUrlData.cloudProviderType must be AWS, AZURE or GCP.");
        if (error is null && type == "CLOUD" && data?.CloudProviderType is null)
            error = ApiError.Invalid("A CLOUD provisioning URL needs provUrlData.cloudProviderType.");
        LocationTemplate? template = null;
        if (error is null && data?.LocationTemplate is { } t && !org.Templates.TryGetValue(t.Id, out template))
            error = ApiError.Invalid("provUrlData.locationTemplate names no location template of this organization.");
        if (error is not null) return error;

        var now = store.Now();
        name = name!.Trim();
        var servers = "connector." + CloudDomain;
        var provData = new ProvUrlData(CloudDomain, long.TryParse(caller.OrgId, out var orgId) ? orgId : 0, servers, servers,
            "ztw." + CloudDomain, "pac." + CloudDomain, data?.CloudProviderType, data?.FormFactor, data?.HyperVisors,
            template is null ? null : new IdName(template.Id, template.Name), now);
        return new ProvisioningUrl(id, name, desc, $"{servers}/api/v1/provUrl?name={Uri.EscapeDataString(name)}", type, provData, [],
            "NOT_DEPLOYED", caller.Modifier, now);
    }
}
