using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Keygate.Portal.Pages;

/// <summary>
/// Administration › Administrator Management › Administrators: the org's admins, and adding, editing, disabling, enabling
/// and deleting them. Every read and change goes through <see cref="AdminDirectory"/>, like the legacy adminUsers routes,
/// so the rights (A8), the refusals and the audit are the API's own; the page offers what the admin's role allows.
/// </summary>
public sealed class AdministratorsModel(AdminDirectory directory, OrgStateCache orgs, TimeProvider clock) : PageModel
{
    public const string Route = "/admin/administrators";

    public Actor Me { get; private set; } = null!;
    public OrgSnapshot Org { get; private set; } = null!;
    public IReadOnlyList<Account> Admins { get; private set; } = [];
    public IReadOnlyList<Role> Roles { get; private set; } = [];
    public bool CanList { get; private set; }
    public bool CanManage => CanList && Me.Rights.CanManageAdmins;
    public KeygateError? Error { get; private set; }
    /// <summary>Where the error belongs: "add", "edit", or null for the page.</summary>
    public string? ErrorIn { get; private set; }

    /// <summary>The open confirmation ("disable" or "delete") of <see cref="Admin"/>, or "edit" for its form.</summary>
    [BindProperty(SupportsGet = true)] public string? Confirm { get; set; }
    [BindProperty(SupportsGet = true)] public long? Admin { get; set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }
    [BindProperty(SupportsGet = true)] public string? Focus { get; set; }
    /// <summary>The add and edit forms' fields, kept when a refusal shows the form again (never the password).</summary>
    [BindProperty] public AdminForm Form { get; set; } = new();

    public sealed class AdminForm
    {
        public string? LoginName { get; set; }
        public string? UserName { get; set; }
        public string? Email { get; set; }
        public long? RoleId { get; set; }
        public string? Password { get; set; }
    }

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadAsync()) return NotFound();
        if (Admin is { } id && Confirm is not null && Find(id) is null) return NotFound();
        if (Confirm == "edit" && Find(Admin) is { } a) Form = new AdminForm { UserName = a.DisplayName, Email = a.Email, RoleId = a.RoleId };
        return Page();
    }

    public Task<IActionResult> OnPostAddAsync() => ChangeAsync("add", null, async () =>
        (await directory.AddAdminAsync(Me, Org.OrgId, new AdminInput(Form.LoginName?.Trim() ?? "", Form.UserName ?? "", Form.Email ?? "",
            Role: new RoleRef(Form.RoleId, null), Password: Form.Password ?? ""))).Error);

    public Task<IActionResult> OnPostEditAsync(long adminId) => ChangeAsync("edit", adminId, async () =>
        (await directory.UpdateAdminAsync(Me, Org.OrgId, adminId, new AdminInput(UserName: Form.UserName ?? "", Email: Form.Email ?? "",
            Role: new RoleRef(Form.RoleId, null)), null)).Error);

    public Task<IActionResult> OnPostDisableAsync(long adminId) => ChangeAsync("disable", adminId, async () =>
        (await directory.UpdateAdminAsync(Me, Org.OrgId, adminId, new AdminInput(Disabled: true), null)).Error);

    public Task<IActionResult> OnPostEnableAsync(long adminId) => ChangeAsync("enable", adminId, async () =>
        (await directory.UpdateAdminAsync(Me, Org.OrgId, adminId, new AdminInput(Disabled: false), null)).Error);

    public Task<IActionResult> OnPostDeleteAsync(long adminId) => ChangeAsync("delete", adminId, () => directory.DeleteAdminAsync(Me, Org.OrgId, adminId));

    /// <summary>
    /// One directory change: success redirects (a reload never repeats it); no right is the 403 page and an admin not of
    /// this org the 404 page, as the directory decides; any other refusal shows the page again with its reason.
    /// </summary>
    private async Task<IActionResult> ChangeAsync(string action, long? adminId, Func<Task<KeygateError?>> change)
    {
        if (!await LoadAsync()) return NotFound();
        var e = await change();
        if (e is null) return Redirect($"{Route}?done={action}");
        if (this.AsErrorPage(e) is { } errorPage) return errorPage;
        await LoadAsync();
        Response.StatusCode = e.Status;
        (Error, Form.Password) = (e, null);
        // A refused edit keeps its form open; a refused disable or delete closes its confirmation.
        (ErrorIn, Confirm, Admin) = action switch
        {
            "add" => ("add", null, null),
            "edit" => ("edit", "edit", adminId),
            _ => ((string?)null, (string?)null, (long?)null),
        };
        return Page();
    }

    private async Task<bool> LoadAsync()
    {
        Me = PortalAuth.Actor(User, HttpContext);
        if (await orgs.GetAsync(Me.OrganizationId!.Value, HttpContext.RequestAborted) is not { } org) return false;
        Org = org;
        var admins = await directory.ListAdminsAsync(Me, org.OrgId, null);
        CanList = admins.Error is null;
        Admins = admins.Value ?? [];
        Roles = (await directory.ListRolesAsync(Me, org.OrgId)).Value ?? [];
        return true;
    }

    public Account? Find(long? id) => Admins.FirstOrDefault(a => a.Id == id);

    /// <summary>The admin whose confirmation or edit form is open.</summary>
    public Account? Confirming(string action) => CanManage && Confirm == action ? Find(Admin) : null;

    public bool IsMe(Account a) => a.Id == Me.Id;

    public bool? Refocus(string action, Account a) => Focus == $"{action}-{a.Id}" && Confirm is null ? true : null;

    public static string CancelHref(string action, Account a) => $"{Route}?focus={action}-{a.Id}";

    /// <summary>Must the admin set a new password at the next login (provider reset, or expired by the org's policy)?</summary>
    public bool PasswordExpired(Account a) =>
        Org.Admins.TryGetValue(a.Id, out var s) && s.PasswordExpired(Org.PasswordExpiryDays, clock.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>The refusal of one field of a form: its own message, the password's policy, or a taken login name.</summary>
    public string? FieldError(string form, string field) =>
        ErrorIn != form || Error is not { } e ? null
        : e.FieldErrors?.TryGetValue(field, out var m) == true ? string.Join(' ', m)
        : OwnField(e) == field ? e.Message : null;

    /// <summary>A refusal of the form that belongs to no field (LAST_SUPER_ADMIN, for one).</summary>
    public KeygateError? FormError(string form) => ErrorIn == form && Error is { FieldErrors: null } e && OwnField(e) is null ? e : null;

    private static string? OwnField(KeygateError e) => e.Code switch
    {
        "INVALID_PASSWORD" => "password",
        "USERNAME_TAKEN" => "loginName",
        _ => null,
    };

    public string? DoneText => Done switch
    {
        "add" => "The administrator was added. They can log in now.",
        "edit" => "The administrator was changed. A new role applies at their next request.",
        "disable" => "The administrator was disabled. Their sessions have ended.",
        "enable" => "The administrator was enabled. They can log in again.",
        "delete" => "The administrator was deleted. Their sessions have ended.",
        _ => null,
    };
}

/// <summary>The add or edit form's fields (_AdminFields.cshtml) of <see cref="AdministratorsModel"/>.</summary>
public sealed record AdminFieldsView(AdministratorsModel Page, string Form, bool Adding);
