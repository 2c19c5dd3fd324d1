using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.SampleUpstream;

/// <summary>A location template, with the SDK's field names (zscaler/ztw/models/location_templates.py).</summary>
public sealed record LocationTemplate(long Id, string Name, string? Desc, TemplateSettings Template, bool Editable, IdName LastModUid, long LastModTime);

/// <summary>The settings a location made from the template gets (the SDK's <c>Template</c>).</summary>
public sealed record TemplateSettings(string? TemplatePrefix = null, bool XffForwardEnabled = false, bool AuthRequired = false,
    bool CautionEnabled = false, bool AupEnabled = false, int AupTimeoutInDays = 0, bool OfwEnabled = false, bool IpsControl = false,
    bool EnforceBandwidthControl = false, int UpBandwidth = 0, int DnBandwidth = 0, string DisplayTimeUnit = "MINUTE",
    int IdleTimeInMinutes = 0, bool SurrogateIPEnforcedForKnownBrowsers = false, string SurrogateRefreshTimeUnit = "MINUTE",
    int SurrogateRefreshTimeInMinutes = 0, bool SurrogateIP = false);

/// <summary>What POST and PUT read. A template given replaces the old one whole, as the SDK documents.</summary>
public sealed record LocationTemplateInput(string? Name, string? Desc, TemplateSettings? Template);

/// <summary>Location templates: full CRUD, like <see cref="ProvisioningUrlsApi"/>.</summary>
public static class LocationTemplatesApi
{
    public const string Feature = "EDGE_CONNECTOR_TEMPLATE";

    public static void MapLocationTemplates(this RouteGroupBuilder api)
    {
        var templates = api.MapGroup("/locationTemplate").RequireFeature(Feature).WithTags("Location templates");
        templates.MapCrudReads("location template", org => org.Templates, t => t.Name);
        templates.MapPost("", Create).WithSummary("Create a location template");
        templates.MapPut("/{id:long}", Update).WithSummary("Update a location template (fields left out keep their value)");
        templates.MapDelete("/{id:long}", Delete).WithSummary("Delete a location template that no provisioning URL uses");
    }

    private static Results<Ok<LocationTemplate>, JsonHttpResult<ApiError>> Create(LocationTemplateInput input, Caller caller, OrgStore store) =>
        Crud.Save<LocationTemplate>(store, caller, org => org.Templates, null, (org, id, _) =>
            Crud.CheckName(input.Name, org.Templates.Values.Select(t => t.Name)) is { } error ? error
                : new LocationTemplate(id, input.Name!.Trim(), input.Desc, input.Template ?? new(), true, caller.Modifier, store.Now()));

    private static Results<Ok<LocationTemplate>, JsonHttpResult<ApiError>> Update(long id, LocationTemplateInput input, Caller caller, OrgStore store) =>
        Crud.Save<LocationTemplate>(store, caller, org => org.Templates, id, (org, _, old) =>
        {
            var name = input.Name ?? old!.Name;
            if (Crud.CheckName(name, org.Templates.Values.Where(t => t.Id != id).Select(t => t.Name)) is { } error) return error;
            return old! with
            {
                Name = name.Trim(), Desc = input.Desc ?? old.Desc, Template = input.Template ?? old.Template,
                LastModUid = caller.Modifier, LastModTime = store.Now(),
            };
        });

    private static Results<NoContent, JsonHttpResult<ApiError>> Delete(long id, Caller caller, OrgStore store)
    {
        var org = store.For(caller);
        lock (org.Sync)
        {
            if (org.ProvUrls.Values.Any(u => u.ProvUrlData.LocationTemplate?.Id == id))
                return TypedResults.Json(new ApiError("RESOURCE_IN_USE", "A provisioning URL uses this location template."), statusCode: 409);
            return Crud.Delete(org, o => o.Templates, id);
        }
    }
}
