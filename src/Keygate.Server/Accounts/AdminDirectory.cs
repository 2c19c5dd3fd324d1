using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Secrets;
using Keygate.Sessions;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Accounts;

/// <summary>A role named in a request (contract A8): by id, by name, or both (then the id decides).</summary>
public sealed record RoleRef(long? Id, string? Name);

/// <summary>An admin as a request gives it; null fields are left as they are (an add needs loginName, role and password).</summary>
public sealed record AdminInput(string? LoginName = null, string? UserName = null, string? Email = null, string? Comments = null,
    RoleRef? Role = null, bool? Disabled = null, string? Password = null);

/// <summary>A role as a request gives it; null fields are left as they are. Features left out of a new role are NONE.</summary>
public sealed record RoleInput(string? Name = null, int? Rank = null, string? RoleType = null, bool? IsAuditor = null,
    IReadOnlyDictionary<string, Access>? Permissions = null);

/// <summary>
/// Every rule about an org's admins, roles and passwords (contract A8), in one place that the legacy API (and the
/// portal, the provider side) call. Like <see cref="KeyLifecycle"/>, each change checks the caller's rights and the
/// org's state, applies the change with its audit event in one transaction (the org's StateVersion as concurrency
/// token), and publishes the org's new snapshot, which carries its admins' rights, everywhere before it returns: so a
/// disable, a delete or a role change holds on every node at the next request. Password changes also end the admin's
/// other legacy sessions (rows, and on a cluster the org's SessionsEndedVersion) and their portal logins (by time).
/// </summary>
public sealed class AdminDirectory(AppDbContext db, KeyVault vault, OrgStateCache cache, SessionStore sessions, Passwords passwords,
    KeygateMetrics metrics, TimeProvider clock)
{
    private const int MaxAttempts = 8;
    private const string TemporaryAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    private long NowMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

    // ---- Reads ----

    /// <summary>The org's admins with their roles, by id; <paramref name="search"/> matches login name, user name or email.</summary>
    public async Task<Result<List<Account>>> ListAdminsAsync(Actor actor, long orgId, string? search)
    {
        if (ReadRefusal(actor) is { } refusal) return refusal;
        var all = await db.Accounts.AsNoTracking().Include(a => a.Role)
            .Where(a => a.OrganizationId == orgId && a.Kind == AccountKind.OrgAdmin).OrderBy(a => a.Id).ToListAsync();
        // Case-insensitive on both databases alike, so in memory: an org has few admins.
        return string.IsNullOrEmpty(search) ? all : all.Where(a => new[] { a.Username, a.DisplayName, a.Email }
            .Any(f => f.Contains(search, StringComparison.OrdinalIgnoreCase))).ToList();
    }

    public async Task<Result<Account>> GetAdminAsync(Actor actor, long orgId, long adminId)
    {
        var admin = await db.Accounts.AsNoTracking().Include(a => a.Role)
            .FirstOrDefaultAsync(a => a.Id == adminId && a.OrganizationId == orgId && a.Kind == AccountKind.OrgAdmin);
        if (admin is null) return KeygateError.NotFound;
        return ReadRefusal(actor) is { } refusal ? refusal : admin;
    }

    public async Task<Result<List<Role>>> ListRolesAsync(Actor actor, long orgId) =>
        ReadRefusal(actor) is { } refusal ? refusal
            : await db.Roles.AsNoTracking().Where(r => r.OrganizationId == orgId).OrderBy(r => r.Id).ToListAsync();

    public async Task<Result<Role>> GetRoleAsync(Actor actor, long orgId, long roleId)
    {
        var role = await db.Roles.AsNoTracking().FirstOrDefaultAsync(r => r.Id == roleId && r.OrganizationId == orgId);
        if (role is null) return KeygateError.NotFound;
        return ReadRefusal(actor) is { } refusal ? refusal : role;
    }

    private static KeygateError? ReadRefusal(Actor actor) =>
        actor.Kind == ActorKind.OrgAdmin && !actor.Rights.CanListAdmins ? KeygateError.AccessDenied : null;

    private static KeygateError? ManageRefusal(Actor actor) =>
        actor.Kind switch
        {
            ActorKind.OrgAdmin => actor.Rights.CanManageAdmins ? null : KeygateError.AccessDenied,
            ActorKind.Operator or ActorKind.ServiceProvider => null,
            _ => KeygateError.AccessDenied,
        };

    // ---- Admins ----

    public Task<Result<Account>> AddAdminAsync(Actor actor, long orgId, AdminInput input) =>
        ChangeAsync<Account>(actor, orgId, "admin.create", async (org, change) =>
        {
            if (ManageRefusal(actor) is { } denied) return denied;
            var errors = new Dictionary<string, string[]>();
            if (input.LoginName is null) errors["loginName"] = ["loginName is required."];
            if (input.Password is null) errors["password"] = ["password is required."];
            if (input.Role is null) errors["role"] = ["role is required."];
            if (Validate(org, input, errors) is { } invalid) return invalid;
            if (PasswordRefusal(actor, input.LoginName!, input.Password!) is { } weak) return weak;
            var normalized = Account.Normalize(input.LoginName!);
            if (await db.Accounts.AnyAsync(a => a.NormalizedUsername == normalized)) return KeygateError.UsernameTaken;
            var admin = new Account
            {
                Kind = AccountKind.OrgAdmin, OrganizationId = org.Id, Username = input.LoginName!.Trim(), NormalizedUsername = normalized,
                PasswordHash = passwords.Hash(input.Password!), CreatedAtMs = NowMs, PasswordChangedAtMs = NowMs,
            };
            Apply(org, admin, input);
            org.Admins.Add(admin);
            change.Detail = $"username={admin.Username} role={RoleOf(org, admin)?.Name}";
            change.AfterSave.Add(() => { change.Audit.Detail += $" id={admin.Id}"; return Task.CompletedTask; });
            return admin;
        });

    /// <param name="keepSession">The session asking (its id's hash): when it changes its own password it stays open.</param>
    public Task<Result<Account>> UpdateAdminAsync(Actor actor, long orgId, long adminId, AdminInput input, byte[]? keepSession) =>
        ChangeAsync<Account>(actor, orgId, "admin.update", async (org, change) =>
        {
            var admin = org.Admins.FirstOrDefault(a => a.Id == adminId && a.Kind == AccountKind.OrgAdmin);
            if (admin is null) return KeygateError.NotFound;
            if (ManageRefusal(actor) is { } denied) return denied;
            if (Validate(org, input, []) is { } invalid) return invalid;
            var loginName = input.LoginName?.Trim() ?? admin.Username;
            if (input.Password is not null && PasswordRefusal(actor, loginName, input.Password) is { } weak) return weak;
            var self = actor.Kind == ActorKind.OrgAdmin && actor.Id == admin.Id;
            if (self && input.Disabled == true) return KeygateError.CannotChangeOwnAccount;
            var normalized = Account.Normalize(loginName);
            if (normalized != admin.NormalizedUsername && await db.Accounts.AnyAsync(a => a.NormalizedUsername == normalized && a.Id != admin.Id))
                return KeygateError.UsernameTaken;
            var before = CanManage(org);
            (admin.Username, admin.NormalizedUsername) = (loginName, normalized);
            var wasDisabled = admin.Disabled;
            Apply(org, admin, input);
            if (before && !CanManage(org)) return KeygateError.LastSuperAdmin;
            var details = new List<string> { $"id={admin.Id}", $"username={admin.Username}", $"role={RoleOf(org, admin)?.Name}" };
            if (admin.Disabled != wasDisabled) details.Add($"disabled={admin.Disabled}");
            if (input.Password is not null)
            {
                SetPassword(admin, input.Password);
                details.Add("password=changed");
            }
            // Disabling or a new password ends the admin's other sessions; a role change needs nothing more (the snapshot).
            if (input.Password is not null || (admin.Disabled && !wasDisabled)) EndSessions(org, change, admin.Id, self ? keepSession : null);
            change.Detail = string.Join(' ', details);
            return admin;
        });

    public async Task<KeygateError?> DeleteAdminAsync(Actor actor, long orgId, long adminId) =>
        (await ChangeAsync<bool>(actor, orgId, "admin.delete", (org, change) =>
        {
            var admin = org.Admins.FirstOrDefault(a => a.Id == adminId && a.Kind == AccountKind.OrgAdmin);
            if (admin is null) return Task.FromResult<Result<bool>>(KeygateError.NotFound);
            if (ManageRefusal(actor) is { } denied) return Task.FromResult<Result<bool>>(denied);
            if (actor.Kind == ActorKind.OrgAdmin && actor.Id == admin.Id) return Task.FromResult<Result<bool>>(KeygateError.CannotChangeOwnAccount);
            var before = CanManage(org);
            org.Admins.Remove(admin);
            db.Accounts.Remove(admin);
            if (before && !CanManage(org)) return Task.FromResult<Result<bool>>(KeygateError.LastSuperAdmin);
            EndSessions(org, change, admin.Id, null);
            change.Detail = $"id={admin.Id} username={admin.Username}";
            return Task.FromResult<Result<bool>>(true);
        })).Error;

    /// <summary>
    /// An admin changes their own password (A8 passwordChange). A wrong old password, or a userName that is not theirs,
    /// is INVALID_USERNAME_OR_PASSWORD, which the caller counts as a failed login.
    /// </summary>
    public async Task<KeygateError?> ChangeOwnPasswordAsync(Actor actor, long orgId, string userName, string oldPassword, string newPassword,
        byte[]? keepSession, CancellationToken ct)
    {
        var current = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == actor.Id && a.OrganizationId == orgId, ct);
        var matches = current is not null && current.NormalizedUsername == Account.Normalize(userName);
        var verified = await passwords.TryVerifyAsync(matches ? current : null, oldPassword, ct);
        if (verified is null) return Passwords.Busy;
        if (verified == false)
        {
            db.AuditEvents.Add(AuditLog.Event(actor, orgId, "password.change", null, KeygateError.InvalidUsernameOrPassword.Code, NowMs));
            await db.SaveChangesAsync(ct);
            return KeygateError.InvalidUsernameOrPassword;
        }
        return (await ChangeAsync<bool>(actor, orgId, "password.change", (org, change) =>
        {
            var admin = org.Admins.FirstOrDefault(a => a.Id == actor.Id);
            if (admin is null) return Task.FromResult<Result<bool>>(KeygateError.NotFound);
            if (PasswordRefusal(actor, admin.Username, newPassword) is { } weak) return Task.FromResult<Result<bool>>(weak);
            SetPassword(admin, newPassword);
            EndSessions(org, change, admin.Id, keepSession);
            change.Detail = $"id={admin.Id}";
            return Task.FromResult<Result<bool>>(true);
        })).Error;
    }

    /// <summary>
    /// The provider side gives an admin a temporary password (contract B) that must be changed at the next login (A8):
    /// like any password change it ends the admin's sessions, legacy ones here and portal ones by the moved
    /// PasswordChangedAtMs the org's snapshot carries. Returns the password, shown once.
    /// </summary>
    public async Task<Result<string>> ResetPasswordAsync(Actor actor, long orgId, long adminId)
    {
        var temporary = System.Security.Cryptography.RandomNumberGenerator.GetString(TemporaryAlphabet, 20);
        return await ChangeAsync<string>(actor, orgId, "admin.reset_password", (org, change) =>
        {
            if (org.Admins.FirstOrDefault(a => a.Id == adminId) is not { } admin) return Task.FromResult<Result<string>>(KeygateError.NotFound);
            SetPassword(admin, temporary);
            admin.PasswordMustChange = true;
            EndSessions(org, change, admin.Id, null);
            // Audited in the org's own log: a reset, like a new admin, gives the provider side a way to the key.
            change.Detail = $"id={admin.Id} username={admin.Username}";
            return Task.FromResult<Result<string>>(temporary);
        });
    }

    /// <summary>Contract A8's policy for passwords set by org admins: 12–128 characters, not containing the login name.</summary>
    public static bool IsAcceptablePassword(string loginName, string password) =>
        password.Length is >= 12 and <= 128 && !password.Contains(loginName.Trim(), StringComparison.OrdinalIgnoreCase);

    /// <summary>Org admins get A8's policy; the provider side keeps the account rules it always had (Passwords.Validate).</summary>
    private static KeygateError? PasswordRefusal(Actor actor, string loginName, string password) =>
        actor.Kind == ActorKind.OrgAdmin
            ? IsAcceptablePassword(loginName, password) ? null : KeygateError.InvalidPassword
            : Passwords.Validate(loginName, password);

    private void SetPassword(Account admin, string password)
    {
        admin.PasswordHash = passwords.Hash(password);
        // Always moves, even within one millisecond of the last change: portal logins are tied to this exact value.
        admin.PasswordChangedAtMs = Math.Max(NowMs, admin.PasswordChangedAtMs + 1);
        admin.PasswordMustChange = false;
    }

    private void EndSessions(Organization org, Change change, long accountId, byte[]? keep)
    {
        change.EndsSessions = true;
        change.AfterSave.Add(() => SessionStore.EndRowsOfAccountAsync(db, accountId, keep));
        change.AfterCommit.Add(() => sessions.ForgetAccount(accountId, keep));
    }

    private static KeygateError? Validate(Organization org, AdminInput input, Dictionary<string, string[]> errors)
    {
        if (input.LoginName is { } login && (login.Trim().Length is < 3 or > 256 || login.Trim().Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
            errors["loginName"] = ["loginName must be 3 to 256 characters without spaces."];
        if (input.UserName?.Length > 256) errors["userName"] = ["userName must be at most 256 characters."];
        if (input.Email?.Length > 256) errors["email"] = ["email must be at most 256 characters."];
        if (input.Comments?.Length > 1000) errors["comments"] = ["comments must be at most 1000 characters."];
        if (input.Role is { } r && Find(org, r) is null) errors["role"] = ["role must name a role of the organization."];
        return errors.Count == 0 ? null : KeygateError.Invalid("The admin is not valid.", errors);
    }

    private static Role? Find(Organization org, RoleRef r) =>
        r.Id is { } id ? org.Roles.FirstOrDefault(x => x.Id == id)
        : r.Name is { } name ? org.Roles.FirstOrDefault(x => string.Equals(x.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        : null;

    private static void Apply(Organization org, Account admin, AdminInput input)
    {
        if (input.UserName is { } u) admin.DisplayName = u;
        if (input.Email is { } e) admin.Email = e;
        if (input.Comments is { } c) admin.Comments = c;
        if (input.Disabled is { } d) admin.Disabled = d;
        if (input.Role is { } r) admin.Role = Find(org, r);
    }

    private static Role? RoleOf(Organization org, Account admin) =>
        admin.Role ?? org.Roles.FirstOrDefault(r => r.Id == admin.RoleId);

    /// <summary>Does the org (as changed in memory) have an enabled admin who can manage admins? LAST_SUPER_ADMIN guards it.</summary>
    private static bool CanManage(Organization org) =>
        org.Admins.Any(a => a.Kind == AccountKind.OrgAdmin && !a.Disabled && RoleOf(org, a) is { } r && r.Rights().CanManageAdmins);

    // ---- Roles ----

    public Task<Result<Role>> AddRoleAsync(Actor actor, long orgId, RoleInput input) =>
        ChangeAsync<Role>(actor, orgId, "role.create", (org, change) =>
        {
            if (ManageRefusal(actor) is { } denied) return Task.FromResult<Result<Role>>(denied);
            if (input.Name is null) return Task.FromResult<Result<Role>>(KeygateError.Invalid("name", "name is required."));
            var role = new Role { Name = "", FeaturePermissions = AdminRights.Serialize(AdminRights.All(Access.NONE)) };
            if (ApplyRole(org, role, input) is { } invalid) return Task.FromResult<Result<Role>>(invalid);
            org.Roles.Add(role);
            change.Detail = $"name={role.Name}";
            return Task.FromResult<Result<Role>>(role);
        });

    public Task<Result<Role>> UpdateRoleAsync(Actor actor, long orgId, long roleId, RoleInput input) =>
        ChangeAsync<Role>(actor, orgId, "role.update", (org, change) =>
        {
            var role = org.Roles.FirstOrDefault(r => r.Id == roleId);
            if (role is null) return Task.FromResult<Result<Role>>(KeygateError.NotFound);
            if (ManageRefusal(actor) is { } denied) return Task.FromResult<Result<Role>>(denied);
            if (role.IsNonEditable) return Task.FromResult<Result<Role>>(BuiltIn);
            var before = CanManage(org);
            if (ApplyRole(org, role, input) is { } invalid) return Task.FromResult<Result<Role>>(invalid);
            if (before && !CanManage(org)) return Task.FromResult<Result<Role>>(KeygateError.LastSuperAdmin);
            change.Detail = $"id={role.Id} name={role.Name}";
            return Task.FromResult<Result<Role>>(role);
        });

    public async Task<KeygateError?> DeleteRoleAsync(Actor actor, long orgId, long roleId) =>
        (await ChangeAsync<bool>(actor, orgId, "role.delete", (org, change) =>
        {
            var role = org.Roles.FirstOrDefault(r => r.Id == roleId);
            if (role is null) return Task.FromResult<Result<bool>>(KeygateError.NotFound);
            if (ManageRefusal(actor) is { } denied) return Task.FromResult<Result<bool>>(denied);
            if (role.IsNonEditable) return Task.FromResult<Result<bool>>(BuiltIn);
            if (org.Admins.Any(a => a.RoleId == role.Id)) return Task.FromResult<Result<bool>>(KeygateError.RoleInUse);
            org.Roles.Remove(role);
            db.Roles.Remove(role);
            change.Detail = $"id={role.Id} name={role.Name}";
            return Task.FromResult<Result<bool>>(true);
        })).Error;

    private static readonly KeygateError BuiltIn = new(403, "ACCESS_DENIED", "The built-in roles cannot be changed or deleted.");

    private static KeygateError? ApplyRole(Organization org, Role role, RoleInput input)
    {
        var errors = new Dictionary<string, string[]>();
        if (input.Name is { } name)
        {
            if (name.Trim().Length is < 1 or > 128) errors["name"] = ["name must be 1 to 128 characters."];
            else if (org.Roles.Any(r => r != role && string.Equals(r.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)))
                errors["name"] = ["A role with this name exists."];
        }
        if (input.RoleType is { Length: > 64 }) errors["roleType"] = ["roleType must be at most 64 characters."];
        if (input.Rank is < 0 or > 1000) errors["rank"] = ["rank must be 0 to 1000."];
        if (errors.Count > 0) return KeygateError.Invalid("The role is not valid.", errors);
        if (input.Name is { } n) role.Name = n.Trim();
        if (input.Rank is { } rank) role.Rank = rank;
        if (input.RoleType is { } type) role.RoleType = type;
        if (input.IsAuditor is { } auditor) role.IsAuditor = auditor;
        if (input.Permissions is { } given)
        {
            var levels = AdminRights.Parse(role.FeaturePermissions);
            for (var i = 0; i < AdminRights.Features.Length; i++)
                if (given.TryGetValue(AdminRights.Features[i], out var level)) levels[i] = level;
            role.FeaturePermissions = AdminRights.Serialize(levels);
        }
        return null;
    }

    // ---- The change itself ----

    private sealed class Change
    {
        public string Detail = "";
        public bool EndsSessions;
        public AuditEvent Audit = null!;
        public readonly List<Func<Task>> AfterSave = [];
        public readonly List<Action> AfterCommit = [];
    }

    /// <summary>
    /// Loads the org with its keys, admins and roles, lets <paramref name="apply"/> check and change it, and commits with the
    /// org's StateVersion as concurrency token (changes to one org take turns on this node; another node's change makes the
    /// save fail and the decision is taken again). A refusal other than 404 is audited; a unique index that a racing change
    /// won (login names are unique across orgs) is USERNAME_TAKEN.
    /// </summary>
    private async Task<Result<T>> ChangeAsync<T>(Actor actor, long orgId, string action, Func<Organization, Change, Task<Result<T>>> apply)
    {
        using var turn = await cache.ChangeTurnAsync(orgId);
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var org = await OrgStateCache.Including(db.Organizations).FirstOrDefaultAsync(o => o.Id == orgId);
            if (org is null || !actor.CanSee(org.Id, org.ServiceProviderId)) return KeygateError.NotFound;
            var change = new Change();
            var result = await apply(org, change);
            if (result.Error is { } refusal)
            {
                await AuditLog.RefusedAsync(db, actor, orgId, action, null, refusal, NowMs);
                return refusal;
            }
            org.StateVersion++;
            org.StateChangedAtMs = NowMs;
            // On a cluster, other nodes look again at the sessions they hold of this org before accepting them.
            if (change.EndsSessions) org.SessionsEndedVersion = org.StateVersion;
            change.Audit = AuditLog.Event(actor, orgId, action, null, AuditLog.Success, NowMs, change.Detail);
            db.AuditEvents.Add(change.Audit);
            try
            {
                await using var tx = await db.Database.BeginTransactionAsync();
                await db.SaveChangesAsync();
                foreach (var step in change.AfterSave) await step();
                await db.SaveChangesAsync();
                try
                {
                    await tx.CommitAsync();
                }
                catch
                {
                    cache.Forget(orgId); // it may have committed: the next read loads the org afresh
                    throw;
                }
            }
            catch (DbUpdateConcurrencyException) when (attempt < MaxAttempts)
            {
                await Task.Delay(Random.Shared.Next(1, 5 * attempt));
                continue;
            }
            catch (DbUpdateException e) when (Db.IsUniqueViolation(e))
            {
                db.ChangeTracker.Clear();
                return KeygateError.UsernameTaken;
            }
            foreach (var step in change.AfterCommit) step();
            await cache.PublishEverywhereAsync(OrgSnapshot.From(org, vault));
            metrics.Changes.Add(1, KeygateMetrics.Tag("action", action));
            return result;
        }
    }
}
