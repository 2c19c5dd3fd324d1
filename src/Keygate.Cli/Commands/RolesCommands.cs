using System.CommandLine;
using System.Globalization;

namespace Keygate.Cli.Commands;

/// <summary>keygate roles …: the organization's admin roles through the legacy session (contract A8).</summary>
public static class RolesCommands
{
    private static readonly string[] Levels = ["NONE", "READ_ONLY", "READ_WRITE"];

    public static Command Create(Cli cli)
    {
        var roles = cli.Command("roles", "List, add, change and delete the organization's admin roles (needs 'keygate login').",
            "keygate roles list", "keygate roles add --name 'Key Keeper' --permission APIKEY_MANAGEMENT=READ_WRITE");
        roles.Subcommands.Add(List(cli));
        roles.Subcommands.Add(Add(cli));
        roles.Subcommands.Add(Edit(cli));
        roles.Subcommands.Add(Delete(cli));
        return roles;
    }

    private static Argument<long> IdArgument() => new("id") { Description = "The role's id (from 'keygate roles list')" };

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static Command List(Cli cli)
    {
        var cmd = cli.Command("list", "List the roles with their feature permissions (features at NONE are left out of the table).",
            "keygate roles list", "keygate roles list --json | jq '.[] | {name, featurePermissions}'");
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var response = await cli.OnSessionAsync((c, _) => c.GetAsync("api/v1/adminRoles", ct));
            if (output.Json) output.Raw(response.Body);
            else output.Write(Table(response.As<AdminRole[]>()));
            return ExitCodes.Success;
        });
        return cmd;
    }

    /// <summary>The options add and edit share.</summary>
    private sealed record Fields(Option<string?> Name, Option<int?> Rank, Option<string?> RoleType, Option<bool?> Auditor, Option<string[]> Permissions)
    {
        public static Fields Create(bool forAdd) => new(
            new("--name") { Description = "The role's name", Required = forAdd },
            new("--rank") { Description = "The rank (a number the legacy API carries)" },
            new("--role-type") { Description = "The role type (default EDGE_CONNECTOR_ADMIN)" },
            new("--auditor") { Description = "Whether the role is an auditor's (true or false)" },
            new("--permission", "-p")
            {
                Description = "FEATURE=NONE|READ_ONLY|READ_WRITE, repeatable (e.g. APIKEY_MANAGEMENT=READ_WRITE). A new role's " +
                    "features left out are NONE; an edit keeps the ones left out.",
                AllowMultipleArgumentsPerToken = false,
            });

        public void AddTo(Command cmd)
        {
            cmd.Options.Add(Name);
            cmd.Options.Add(Rank);
            cmd.Options.Add(RoleType);
            cmd.Options.Add(Auditor);
            cmd.Options.Add(Permissions);
        }

        public object Body(ParseResult pr) => new
        {
            name = pr.GetValue(Name),
            rank = pr.GetValue(Rank),
            roleType = pr.GetValue(RoleType),
            isAuditor = pr.GetValue(Auditor),
            featurePermissions = pr.GetValue(Permissions) is { Length: > 0 } p ? ParsePermissions(p) : null,
        };

        private static Dictionary<string, string> ParsePermissions(string[] given)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var g in given)
            {
                var parts = g.Split('=', 2, StringSplitOptions.TrimEntries);
                if (parts.Length != 2 || parts[0].Length == 0 || !Levels.Contains(parts[1].ToUpperInvariant()))
                    throw new CliException(ExitCodes.Usage, $"--permission '{g}' is not FEATURE=NONE|READ_ONLY|READ_WRITE.");
                map[parts[0].ToUpperInvariant()] = parts[1].ToUpperInvariant();
            }
            return map;
        }
    }

    private static Command Add(Cli cli)
    {
        var fields = Fields.Create(forAdd: true);
        var cmd = cli.Command("add", "Add a role.",
            "keygate roles add --name 'Key Keeper' -p APIKEY_MANAGEMENT=READ_WRITE -p EDGE_CONNECTOR_ADMIN_MANAGEMENT=READ_ONLY",
            "keygate roles add --name Auditor --auditor true -p APIKEY_MANAGEMENT=READ_ONLY --json");
        fields.AddTo(cmd);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            Print(output, await cli.OnSessionAsync((c, _) => c.PostAsync("api/v1/adminRoles", fields.Body(pr), ct)), "Added");
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Edit(Cli cli)
    {
        var id = IdArgument();
        var fields = Fields.Create(forAdd: false);
        var cmd = cli.Command("edit", "Change a role (not a built-in one); its admins' live sessions get the new rights at their next request.",
            "keygate roles edit 12 -p APIKEY_MANAGEMENT=READ_ONLY", "keygate roles edit 12 --name 'Key Reader' --json");
        cmd.Arguments.Add(id);
        fields.AddTo(cmd);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            Print(output, await cli.OnSessionAsync((c, _) => c.PutAsync($"api/v1/adminRoles/{Id(pr.GetValue(id))}", fields.Body(pr), ct)), "Changed");
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Delete(Cli cli)
    {
        var id = IdArgument();
        var yes = Cli.YesOption();
        var cmd = cli.Command("delete", "Delete a role no admin has (else 409 ROLE_IN_USE); built-in roles stay.",
            "keygate roles delete 12", "keygate roles delete 12 --yes --json");
        cmd.Arguments.Add(id);
        cmd.Options.Add(yes);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var roleId = pr.GetValue(id);
            if (cli.MustAsk(pr.GetValue(yes)) && !cli.Ask($"Delete role {Id(roleId)}?")) return ExitCodes.Other;
            await cli.OnSessionAsync((c, _) => c.DeleteAsync($"api/v1/adminRoles/{Id(roleId)}", ct));
            if (output.Json) output.Document(new { id = roleId, deleted = true });
            else output.Note($"Role {Id(roleId)} deleted.");
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static void Print(Output output, ApiResponse response, string verb)
    {
        if (output.Json) { output.Raw(response.Body); return; }
        var role = response.As<AdminRole>();
        output.Note($"{verb} role {Id(role.Id)}:");
        output.Write(Table([role]));
    }

    private static Spectre.Console.Table Table(IEnumerable<AdminRole> roles)
    {
        var t = Output.Table("ID", "NAME", "TYPE", "RANK", "BUILT-IN", "AUDITOR", "PERMISSIONS");
        foreach (var r in roles)
            Output.Row(t, Id(r.Id), r.Name, r.RoleType, Id(r.Rank), r.IsNonEditable ? "yes" : "", r.IsAuditor ? "yes" : "",
                string.Join(", ", r.FeaturePermissions.Where(p => p.Value != "NONE").Select(p => $"{p.Key}={p.Value}")) is { Length: > 0 } s ? s : "none");
        return t;
    }
}
