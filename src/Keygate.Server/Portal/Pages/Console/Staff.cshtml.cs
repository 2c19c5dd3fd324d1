using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using System.Security.Claims;

namespace Keygate.Portal.Pages;

/// <summary>
/// The console logins of the staff member's side (the operator's staff see every one): add, disable or enable, set a
/// password, delete. The rules are <see cref="AccountChanges"/>'s, as for the provider API, and one more of the console:
/// nobody disables or deletes their own login (CANNOT_CHANGE_OWN_ACCOUNT). A disabled, deleted or re-passworded login's
/// console sessions end at their next request; one's own new password signs this browser in again with it.
/// </summary>
public sealed class StaffModel(AccountChanges accounts, AppDbContext db, TimeProvider clock, IOptions<KeygateOptions> options) : PageModel
{
    public const string Route = "/console/staff";

    public Actor Me { get; private set; } = null!;
    public long MyId { get; private set; }
    public IReadOnlyList<Account> All { get; private set; } = [];
    public IReadOnlyDictionary<long, string> Providers { get; private set; } = new Dictionary<long, string>();
    public KeygateError? Error { get; private set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }
    /// <summary>"password" or "delete" with <see cref="ConfirmStaff"/>: the dialog to show.</summary>
    [BindProperty(SupportsGet = true)] public string? Confirm { get; set; }
    [BindProperty(SupportsGet = true)] public long? ConfirmStaff { get; set; }
    [BindProperty(SupportsGet = true)] public string? Focus { get; set; }
    /// <summary>The add form as posted, kept when it is refused (never the password).</summary>
    public string? NewUsername { get; private set; }

    public bool IsOperator => Me.Kind == ActorKind.Operator;

    public Account? Confirming(string action) => Confirm == action ? All.FirstOrDefault(a => a.Id == ConfirmStaff) : null;

    public bool? Refocus(string id) => Focus == id && Confirming("password") is null && Confirming("delete") is null ? true : null;

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostAddAsync(string? username, string? password, long? serviceProviderId)
    {
        await LoadAsync();
        NewUsername = username;
        var created = await accounts.CreateStaffAsync(Me, username ?? "", password ?? "", serviceProviderId);
        return created.Error is { } e ? await RefusedAsync(e) : Redirect($"{Route}?done=added");
    }

    public Task<IActionResult> OnPostDisableAsync(long staffId) => UpdateAsync(staffId, true, null, "disabled");

    public Task<IActionResult> OnPostEnableAsync(long staffId) => UpdateAsync(staffId, false, null, "enabled");

    public Task<IActionResult> OnPostPasswordAsync(long staffId, string? password) => UpdateAsync(staffId, null, password ?? "", "password");

    public async Task<IActionResult> OnPostDeleteAsync(long staffId)
    {
        await LoadAsync();
        return await accounts.DeleteStaffAsync(Me, staffId, MyId) is { } e ? await RefusedAsync(e) : Redirect($"{Route}?done=deleted");
    }

    private async Task<IActionResult> UpdateAsync(long staffId, bool? disabled, string? password, string done)
    {
        await LoadAsync();
        var changed = await accounts.UpdateStaffAsync(Me, staffId, disabled, password, MyId);
        if (changed.Error is { } e) return await RefusedAsync(e);
        // One's own new password ends this login like every other of it: sign in again with the new one.
        if (staffId == MyId && password is not null)
            await HttpContext.SignInAsync(PortalAuth.Scheme, PortalAuth.Principal(changed.Value!, User.FindFirstValue(PortalAuth.ServiceProviderNameClaim), clock.Now()));
        return Redirect($"{Route}?done={done}");
    }

    private async Task<IActionResult> RefusedAsync(KeygateError e)
    {
        await LoadAsync(); // the refusal may have cleared what was read
        Response.StatusCode = e.Status;
        Error = e;
        return Page();
    }

    private async Task LoadAsync()
    {
        Me = PortalAuth.StaffActor(User, HttpContext, options.Value.OperatorName);
        MyId = long.Parse(User.FindFirstValue(ClaimTypes.NameIdentifier)!);
        All = await accounts.VisibleStaff(Me).AsNoTracking().OrderBy(a => a.Username).ToListAsync();
        if (IsOperator) Providers = await db.ServiceProviders.AsNoTracking().ToDictionaryAsync(s => s.Id, s => s.Name);
    }

    public string OwnerOf(Account a) => a.ServiceProviderId is { } sp ? Providers.GetValueOrDefault(sp, $"Service provider {sp}") : "Operator";

    public string? DoneText => Done switch
    {
        "added" => "The login was added.",
        "disabled" => "The login was disabled. Its console sessions end at their next request.",
        "enabled" => "The login was enabled.",
        "password" => "The password was set. The login's other console sessions end at their next request.",
        "deleted" => "The login was deleted. Its console sessions end at their next request.",
        _ => null,
    };
}
