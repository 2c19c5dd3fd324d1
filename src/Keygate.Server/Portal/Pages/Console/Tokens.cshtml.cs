using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Keygate.Portal.Pages;

/// <summary>
/// The provider API tokens of the staff member's side (the operator's staff see every token): list, create with an
/// expiry, rotate with a grace period, revoke. Every rule is <see cref="TokenChanges"/>'s, as for the provider API. A new
/// token is shown once, in the answer to the post that made it (never in a URL or a cookie), so that one answer is not PRG.
/// </summary>
public sealed class TokensModel(TokenChanges tokens, AppDbContext db, TimeProvider clock, IOptions<KeygateOptions> options, RequestValidator validator)
    : PageModel
{
    public const string Route = "/console/tokens";

    public Actor Me { get; private set; } = null!;
    public long NowMs { get; private set; }
    public IReadOnlyList<ProviderToken> All { get; private set; } = [];
    /// <summary>Service providers by id, for the operator's staff (the owner column and the create form).</summary>
    public IReadOnlyDictionary<long, string> Providers { get; private set; } = new Dictionary<long, string>();
    public NewToken? Made { get; private set; }
    public bool MadeByRotation { get; private set; }
    public KeygateError? Error { get; private set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }
    /// <summary>"rotate" or "revoke" with <see cref="ConfirmToken"/>: the confirmation to show.</summary>
    [BindProperty(SupportsGet = true)] public string? Confirm { get; set; }
    [BindProperty(SupportsGet = true)] public long? ConfirmToken { get; set; }
    [BindProperty(SupportsGet = true)] public string? Focus { get; set; }

    public bool IsOperator => Me.Kind == ActorKind.Operator;

    /// <summary>The token whose rotation or revocation is being confirmed, while it still works.</summary>
    public ProviderToken? Confirming(string action) =>
        Confirm == action && Made is null && All.FirstOrDefault(t => t.Id == ConfirmToken) is { } t && t.IsLive(NowMs) ? t : null;

    public bool? Refocus(string id) => Focus == id && Confirming("rotate") is null && Confirming("revoke") is null ? true : null;

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostCreateAsync(string? name, string? expiresAt, long? serviceProviderId)
    {
        await LoadAsync();
        if (!FormTime.TryParse(expiresAt, out var at))
            return Refused(KeygateError.Invalid("expiresAt", "Enter the expiry as a date and time (UTC), or leave it empty for none."));
        var request = new CreateTokenRequest(string.IsNullOrWhiteSpace(name) ? null! : name, at, serviceProviderId);
        if (await validator.ValidateAsync(request) is { } invalid) return Refused(invalid);
        return Shown(await tokens.CreateAsync(Me, request.Name, request.ExpiresAt, request.ServiceProviderId), rotated: false);
    }

    /// <summary>The grace period is given in minutes or hours; the rotation checks its range (up to a week).</summary>
    public async Task<IActionResult> OnPostRotateAsync(long tokenId, int? grace, string? unit)
    {
        await LoadAsync();
        var seconds = (long)(grace ?? 24) * (unit == "minutes" ? 60 : 3600);
        return Shown(await tokens.RotateAsync(Me, tokenId, (int)Math.Clamp(seconds, -1, TokenChanges.MaxGraceSeconds + 1)), rotated: true);
    }

    public async Task<IActionResult> OnPostRevokeAsync(long tokenId)
    {
        await LoadAsync();
        return await tokens.RevokeAsync(Me, tokenId) is { } e ? Refused(e) : Redirect($"{Route}?done=revoked");
    }

    private IActionResult Shown(Result<NewToken> made, bool rotated)
    {
        if (made.Error is { } e) return Refused(e);
        (Made, MadeByRotation) = (made.Value, rotated);
        return Page();
    }

    private IActionResult Refused(KeygateError e)
    {
        Response.StatusCode = e.Status;
        Error = e;
        return Page();
    }

    private async Task LoadAsync()
    {
        Me = PortalAuth.StaffActor(User, HttpContext, options.Value.OperatorName);
        NowMs = clock.Now();
        All = await tokens.Visible(Me).AsNoTracking().OrderByDescending(t => t.Id).ToListAsync();
        if (IsOperator) Providers = await db.ServiceProviders.AsNoTracking().ToDictionaryAsync(s => s.Id, s => s.Name);
    }

    /// <summary>The token's state in words; a rotated token (a later one of its name and owner exists) says until when it still works.</summary>
    public string StatusOf(ProviderToken t)
    {
        if (t.RevokedAtMs is { } revoked) return $"Revoked {AuditListing.Time(revoked / 1000)}";
        if (t.ExpiresAtMs is { } end && end <= NowMs) return $"Expired {AuditListing.Time(end / 1000)}";
        if (t.ExpiresAtMs is { } until && All.Any(n => n.Id > t.Id && n.Name == t.Name && n.ServiceProviderId == t.ServiceProviderId && n.CreatedAtMs <= until))
            return $"Rotating, old one valid until {AuditListing.Time(until / 1000)}";
        return "Active";
    }

    public static string BadgeOf(string status) => status switch
    {
        "Active" => "ok",
        _ when status.StartsWith("Rotating", StringComparison.Ordinal) => "warn",
        _ when status.StartsWith("Revoked", StringComparison.Ordinal) => "err",
        _ => "",
    };

    public string OwnerOf(ProviderToken t) => t.ServiceProviderId is { } sp ? Providers.GetValueOrDefault(sp, $"Service provider {sp}") : "Operator";

    public static string When(long? ms, string none) => ms is { } v ? AuditListing.Time(v / 1000) : none;

    public string? DoneText => Done switch
    {
        "revoked" => "The token was revoked. It is refused from its next request on.",
        _ => null,
    };
}
