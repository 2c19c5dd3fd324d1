using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Keygate.Portal.Pages;

/// <summary>
/// Administration › Administrator Management › Roles: the built-in roles (read-only) and the org's own, each a level per
/// feature (contract A8), with a permission matrix to add, change and delete the org's own. Every change goes through
/// <see cref="AdminDirectory"/>, like the legacy adminRoles routes: the same rights, refusals and audit.
/// </summary>
public sealed class RolesModel(AdminDirectory directory, OrgStateCache orgs) : PageModel
{
    public const string Route = "/admin/roles";

    /// <summary>A person's name for each of A8's features; the code stays visible beside it.</summary>
    public static readonly IReadOnlyDictionary<string, string> FeatureNames = new Dictionary<string, string>
    {
        ["APIKEY_MANAGEMENT"] = "API keys",
        ["EDGE_CONNECTOR_ADMIN_MANAGEMENT"] = "Administrators and roles",
        ["EDGE_CONNECTOR_CLOUD_PROVISIONING"] = "Cloud provisioning",
        ["EDGE_CONNECTOR_LOCATION_MANAGEMENT"] = "Locations",
        ["EDGE_CONNECTOR_TEMPLATE"] = "Location templates",
        ["EDGE_CONNECTOR_DASHBOARD"] = "Dashboard",
        ["EDGE_CONNECTOR_POLICY_CONFIGURATION"] = "Policy configuration",
        ["EDGE_CONNECTOR_FORWARDING"] = "Forwarding",
        ["EDGE_CONNECTOR_NSS_CONFIGURATION"] = "NSS configuration",
    };

    public static readonly (Access Level, string Label)[] Levels = [(Access.NONE, "None"), (Access.READ_ONLY, "Read only"), (Access.READ_WRITE, "Read and write")];

    public static string NameOf(string feature) => FeatureNames.TryGetValue(feature, out var n) ? n : feature;
    public static string LabelOf(Access level) => Levels.First(l => l.Level == level).Label;

    public Actor Me { get; private set; } = null!;
    public OrgSnapshot Org { get; private set; } = null!;
    public IReadOnlyList<Role> Roles { get; private set; } = [];
    public bool CanList { get; private set; }
    public bool CanManage => CanList && Me.Rights.CanManageAdmins;
    public KeygateError? Error { get; private set; }
    /// <summary>Where the error belongs: "add", "edit", or null for the page.</summary>
    public string? ErrorIn { get; private set; }
    /// <summary>The name and levels a refused form showed, so it shows them again.</summary>
    public string? FormName { get; private set; }
    public Access[]? FormLevels { get; private set; }

    [BindProperty(SupportsGet = true)] public string? Confirm { get; set; }
    [BindProperty(SupportsGet = true)] public long? Role { get; set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }
    [BindProperty(SupportsGet = true)] public string? Focus { get; set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadAsync()) return NotFound();
        return Role is { } id && Confirm is not null && Roles.All(r => r.Id != id) ? NotFound() : Page();
    }

    public Task<IActionResult> OnPostAddAsync(string? name) =>
        ChangeAsync("add", null, name, PostedLevels(), async input => (await directory.AddRoleAsync(Me, Org.OrgId, input with { Name = name ?? "" })).Error);

    public Task<IActionResult> OnPostEditAsync(long roleId, string? name) =>
        ChangeAsync("edit", roleId, name, PostedLevels(), async input => (await directory.UpdateRoleAsync(Me, Org.OrgId, roleId, input)).Error);

    public Task<IActionResult> OnPostDeleteAsync(long roleId) =>
        ChangeAsync("delete", roleId, null, null, _ => directory.DeleteRoleAsync(Me, Org.OrgId, roleId));

    /// <summary>The matrix's radio buttons, levels[FEATURE]=LEVEL (read by hand: a dictionary binder takes any field when none matches).</summary>
    private Dictionary<string, string> PostedLevels() =>
        Request.Form.Where(f => f.Key.StartsWith("levels[", StringComparison.Ordinal) && f.Key.EndsWith(']'))
            .ToDictionary(f => f.Key[7..^1], f => f.Value.ToString());

    private async Task<IActionResult> ChangeAsync(string action, long? roleId, string? name, Dictionary<string, string>? levels,
        Func<RoleInput, Task<KeygateError?>> change)
    {
        if (!await LoadAsync()) return NotFound();
        var permissions = new Dictionary<string, Access>();
        KeygateError? e = null;
        foreach (var (feature, level) in levels ?? [])
        {
            if (Enum.TryParse<Access>(level, out var a) && Enum.IsDefined(a) && !level.Any(char.IsDigit)) permissions[feature] = a;
            else e = KeygateError.Invalid("levels", $"Choose None, Read only or Read and write for {NameOf(feature)}.");
        }
        e ??= await change(new RoleInput(name, Permissions: permissions));
        if (e is null) return Redirect($"{Route}?done={action}");
        if (this.AsErrorPage(e) is { } errorPage) return errorPage;
        await LoadAsync();
        Response.StatusCode = e.Status;
        Error = e;
        (ErrorIn, Confirm, Role) = action switch
        {
            "add" => ("add", null, null),
            "edit" => ("edit", "edit", roleId),
            _ => ((string?)null, (string?)null, (long?)null),
        };
        (FormName, FormLevels) = (name, AdminRights.Features.Select(f => permissions.GetValueOrDefault(f)).ToArray());
        return Page();
    }

    private async Task<bool> LoadAsync()
    {
        Me = PortalAuth.Actor(User, HttpContext);
        if (await orgs.GetAsync(Me.OrganizationId!.Value, HttpContext.RequestAborted) is not { } org) return false;
        Org = org;
        var roles = await directory.ListRolesAsync(Me, org.OrgId);
        (CanList, Roles) = (roles.Error is null, roles.Value ?? []);
        return true;
    }

    /// <summary>The custom role whose form or confirmation is open.</summary>
    public Role? Confirming(string action) => CanManage && Confirm == action ? Roles.FirstOrDefault(r => r.Id == Role && !r.IsNonEditable) : null;

    public bool? Refocus(string action, Role r) => Focus == $"{action}-{r.Id}" && Confirm is null ? true : null;

    public static string CancelHref(string action, Role r) => $"{Route}?focus={action}-{r.Id}";

    public string? FormError(string form) => ErrorIn == form ? Error?.FieldErrors?.Values.SelectMany(m => m).FirstOrDefault() ?? Error?.Message : null;

    public string? DoneText => Done switch
    {
        "add" => "The role was added.",
        "edit" => "The role was changed. Its administrators have the new permissions at their next request.",
        "delete" => "The role was deleted.",
        _ => null,
    };
}

/// <summary>A role's name and permission matrix as a form (_RoleFields.cshtml): "add" or "edit".</summary>
public sealed record RoleFieldsView(RolesModel Page, string Form, string? Name, IReadOnlyList<Access> Levels);
