using System.CommandLine;
using System.Globalization;

namespace Keygate.Cli.Commands;

/// <summary>
/// keygate admins …: the organization's admin users through the legacy session (contract A8). Passwords are write-only:
/// they come from KEYGATE_ADMIN_PASSWORD, stdin or a prompt without echo, and are never printed.
/// </summary>
public static class AdminsCommands
{
    public static Command Create(Cli cli)
    {
        var admins = cli.Command("admins", "List, read, add, change, disable, enable and delete the organization's admins (needs 'keygate login').",
            "keygate admins list", "KEYGATE_ADMIN_PASSWORD=… keygate admins add --login-name ada@acme.example --role 'Read Only Admin'");
        admins.Subcommands.Add(List(cli));
        admins.Subcommands.Add(Get(cli));
        admins.Subcommands.Add(Add(cli));
        admins.Subcommands.Add(Edit(cli));
        admins.Subcommands.Add(Disable(cli));
        admins.Subcommands.Add(Enable(cli));
        admins.Subcommands.Add(Delete(cli));
        return admins;
    }

    private static Argument<long> IdArgument() => new("id") { Description = "The admin's id (from 'keygate admins list')" };

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static Command List(Cli cli)
    {
        var search = new Option<string?>("--search", "-s") { Description = "Only admins whose login name, name or email contains this" };
        var page = new Option<int?>("--page") { Description = "The page, from 1 (with --page-size)" };
        var pageSize = new Option<int?>("--page-size") { Description = "Admins per page, 1 to 1000 (default: all)" };
        var cmd = cli.Command("list", "List the admins with their role and status.",
            "keygate admins list --search acme", "keygate admins list --json | jq -r '.[].loginName'");
        cmd.Options.Add(search);
        cmd.Options.Add(page);
        cmd.Options.Add(pageSize);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var query = string.Join("&", new[]
            {
                pr.GetValue(search) is { } s ? "search=" + Uri.EscapeDataString(s) : null,
                pr.GetValue(page) is { } p ? "page=" + Id(p) : null,
                pr.GetValue(pageSize) is { } n ? "pageSize=" + Id(n) : null,
            }.OfType<string>());
            var response = await cli.OnSessionAsync((c, _) => c.GetAsync("api/v1/adminUsers" + (query.Length > 0 ? "?" + query : ""), ct));
            if (output.Json) output.Raw(response.Body);
            else
            {
                var list = response.As<AdminUser[]>();
                if (list.Length == 0) output.Note("No admins.");
                else output.Write(Table(list));
            }
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Get(Cli cli)
    {
        var id = IdArgument();
        var cmd = cli.Command("get", "Show one admin.", "keygate admins get 77", "keygate admins get 77 --json");
        cmd.Arguments.Add(id);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            Print(output, await cli.OnSessionAsync((c, _) => c.GetAsync($"api/v1/adminUsers/{Id(pr.GetValue(id))}", ct)), null);
            return ExitCodes.Success;
        });
        return cmd;
    }

    /// <summary>The options add and edit share: everything of the admin but the password.</summary>
    private sealed record Fields(Option<string?> LoginName, Option<string?> UserName, Option<string?> Email, Option<string?> Role, Option<string?> Comments)
    {
        public static Fields Create(bool forAdd) => new(
            new("--login-name") { Description = "The login name (usernames are global and case-insensitive)", Required = forAdd },
            new("--user-name") { Description = "The display name" },
            new("--email") { Description = "The email address" },
            new("--role") { Description = "The role: its name (e.g. 'Super Admin', 'Read Only Admin') or id", Required = forAdd },
            new("--comments") { Description = "A free-text note" });

        public void AddTo(Command cmd)
        {
            foreach (var o in new[] { LoginName, UserName, Email, Role, Comments }) cmd.Options.Add(o);
        }

        /// <summary>The body; what is left out is null, which the server reads as "not given".</summary>
        public object Body(ParseResult pr, string? password, bool? disabled = null) => new
        {
            loginName = pr.GetValue(LoginName),
            userName = pr.GetValue(UserName),
            email = pr.GetValue(Email),
            role = RoleValue(pr.GetValue(Role)),
            comments = pr.GetValue(Comments),
            disabled,
            password,
        };

        /// <summary>A number names the role by id; anything else by name (contract A8 accepts both).</summary>
        private static object? RoleValue(string? role) =>
            role is null ? null : long.TryParse(role, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? new { id } : role;
    }

    private static Option<string?> PasswordOption(string description) => new("--password")
    {
        Description = description + " Only '-' (read it from stdin) may follow; a password itself is refused: shell history would keep it.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static Command Add(Cli cli)
    {
        var fields = Fields.Create(forAdd: true);
        var password = PasswordOption("The password (12 to 128 characters, not containing the login name) comes from KEYGATE_ADMIN_PASSWORD or a prompt without echo.");
        var cmd = cli.Command("add", "Add an admin. The password comes from KEYGATE_ADMIN_PASSWORD, from stdin with '--password -', or from a prompt without echo.",
            "keygate admins add --login-name ada@acme.example --user-name 'Ada Admin' --role 'Super Admin'",
            "pass show keygate/ada | keygate admins add --login-name ada@acme.example --role 'Read Only Admin' --password - --json");
        fields.AddTo(cmd);
        cmd.Options.Add(password);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var secret = cli.Secret("KEYGATE_ADMIN_PASSWORD", "New admin's password", "--password", Given(pr, password));
            Print(output, await cli.OnSessionAsync((c, _) => c.PostAsync("api/v1/adminUsers", fields.Body(pr, secret), ct)), "Added");
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Edit(Cli cli)
    {
        var id = IdArgument();
        var fields = Fields.Create(forAdd: false);
        var password = PasswordOption("Set a new password, from KEYGATE_ADMIN_PASSWORD or a prompt without echo; the admin's other sessions end.");
        var cmd = cli.Command("edit", "Change an admin's login name, name, email, role, comments or password; what you leave out stays.",
            "keygate admins edit 77 --role 'Read Only Admin'", "KEYGATE_ADMIN_PASSWORD=… keygate admins edit 77 --password --json");
        cmd.Arguments.Add(id);
        fields.AddTo(cmd);
        cmd.Options.Add(password);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var secret = pr.GetResult(password) is null ? null : cli.Secret("KEYGATE_ADMIN_PASSWORD", "New password", "--password", Given(pr, password));
            Print(output, await cli.OnSessionAsync((c, _) => c.PutAsync($"api/v1/adminUsers/{Id(pr.GetValue(id))}", fields.Body(pr, secret), ct)), "Changed");
            return ExitCodes.Success;
        });
        return cmd;
    }

    /// <summary>"--password" alone means "ask or read the variable"; "--password -" means stdin.</summary>
    private static string? Given(ParseResult pr, Option<string?> password) => pr.GetValue(password) is { Length: > 0 } v ? v : null;

    private static Command Disable(Cli cli)
    {
        var id = IdArgument();
        var yes = Cli.YesOption();
        var cmd = cli.Command("disable", "Disable an admin: their sessions end at once and they cannot log in until enabled again.",
            "keygate admins disable 77", "keygate admins disable 77 --yes --json");
        cmd.Arguments.Add(id);
        cmd.Options.Add(yes);
        cmd.SetAction((pr, ct) => SetDisabledAsync(cli, pr, pr.GetValue(id), true, cli.MustAsk(pr.GetValue(yes)), ct));
        return cmd;
    }

    private static Command Enable(Cli cli)
    {
        var id = IdArgument();
        var cmd = cli.Command("enable", "Enable a disabled admin again.", "keygate admins enable 77");
        cmd.Arguments.Add(id);
        cmd.SetAction((pr, ct) => SetDisabledAsync(cli, pr, pr.GetValue(id), false, false, ct));
        return cmd;
    }

    private static Task<int> SetDisabledAsync(Cli cli, ParseResult pr, long adminId, bool disabled, bool ask, CancellationToken ct) =>
        cli.OnSessionAsync(async (c, _) =>
        {
            if (ask && !cli.Ask($"Disable {await DescribeAsync(c, adminId, ct)}? Their sessions end at once.")) return ExitCodes.Other;
            Print(cli.Output(pr), await c.PutAsync($"api/v1/adminUsers/{Id(adminId)}", new { disabled }, ct), disabled ? "Disabled" : "Enabled");
            return ExitCodes.Success;
        });

    private static Command Delete(Cli cli)
    {
        var id = IdArgument();
        var yes = Cli.YesOption();
        var cmd = cli.Command("delete", "Delete an admin; their sessions end at once. You cannot delete yourself or the last admin who can manage admins.",
            "keygate admins delete 77", "keygate admins delete 77 --yes --json");
        cmd.Arguments.Add(id);
        cmd.Options.Add(yes);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var adminId = pr.GetValue(id);
            var ask = cli.MustAsk(pr.GetValue(yes));
            var done = await cli.OnSessionAsync(async (c, _) =>
            {
                if (ask && !cli.Ask($"Delete {await DescribeAsync(c, adminId, ct)}? Their sessions end at once.")) return false;
                await c.DeleteAsync($"api/v1/adminUsers/{Id(adminId)}", ct);
                return true;
            });
            if (!done) return ExitCodes.Other;
            if (output.Json) output.Document(new { id = adminId, deleted = true });
            else output.Note($"Admin {Id(adminId)} deleted.");
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static async Task<string> DescribeAsync(ApiClient c, long id, CancellationToken ct) =>
        $"admin {Id(id)} ({(await c.GetAsync($"api/v1/adminUsers/{Id(id)}", ct)).As<AdminUser>().LoginName})";

    private static void Print(Output output, ApiResponse response, string? verb)
    {
        if (output.Json) { output.Raw(response.Body); return; }
        var admin = response.As<AdminUser>();
        if (verb is not null) output.Note($"{verb} admin {Id(admin.Id)}:");
        output.Write(Table([admin]));
    }

    private static Spectre.Console.Table Table(IEnumerable<AdminUser> admins)
    {
        var t = Output.Table("ID", "LOGIN", "NAME", "EMAIL", "ROLE", "STATUS", "PASSWORD CHANGED");
        foreach (var a in admins)
            Output.Row(t, Id(a.Id), a.LoginName, a.UserName, a.Email, a.Role?.Name, a.Disabled ? "DISABLED" : "ENABLED",
                Output.Time(a.PwdLastModifiedTime) + (a.IsPasswordExpired ? " (expired)" : ""));
        return t;
    }
}
