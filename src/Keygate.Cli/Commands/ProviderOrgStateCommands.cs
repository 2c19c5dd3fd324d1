using System.CommandLine;
using System.Globalization;

namespace Keygate.Cli.Commands;

/// <summary>keygate provider orgs suspend|resume|delete (contract B v3): the org's state over time, with confirmation unless --yes.</summary>
public static class ProviderOrgStateCommands
{
    public static void AddTo(Command orgs, Cli cli, Option<string?> url)
    {
        orgs.Subcommands.Add(Suspend(cli, url));
        orgs.Subcommands.Add(Resume(cli, url));
        orgs.Subcommands.Add(Delete(cli, url));
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static Command Suspend(Cli cli, Option<string?> url)
    {
        var org = ProviderCommands.OrgArgument();
        var note = new Option<string?>("--note") { Description = "Why (kept in the audit log and sent with the org.suspended webhook)" };
        var yes = Cli.YesOption();
        var cmd = cli.Command("suspend", "Suspend an organization: every legacy request and login is refused ORG_SUSPENDED until it is resumed.",
            "keygate provider orgs suspend 42 --note 'unpaid invoice'", "keygate provider orgs suspend 42 --yes --json");
        cmd.Arguments.Add(org);
        cmd.Options.Add(note);
        cmd.Options.Add(yes);
        cmd.SetAction(async (pr, ct) =>
        {
            var id = pr.GetValue(org);
            if (cli.MustAsk(pr.GetValue(yes)) && !cli.Ask($"Suspend organization {Id(id)}? Its API calls and logins are refused at once.")) return ExitCodes.Other;
            return await ProviderCommands.WithProviderAsync(cli, pr, url, async (c, output) =>
                ProviderCommands.PrintOrg(output, await c.PostAsync($"provider/v1/organizations/{Id(id)}/suspend", new { note = pr.GetValue(note) }, ct)));
        });
        return cmd;
    }

    private static Command Resume(Cli cli, Option<string?> url)
    {
        var org = ProviderCommands.OrgArgument();
        var cmd = cli.Command("resume", "Lift an organization's suspension.", "keygate provider orgs resume 42");
        cmd.Arguments.Add(org);
        cmd.SetAction((pr, ct) => ProviderCommands.WithProviderAsync(cli, pr, url, async (c, output) =>
            ProviderCommands.PrintOrg(output, await c.PostAsync($"provider/v1/organizations/{Id(pr.GetValue(org))}/resume", null, ct))));
        return cmd;
    }

    private static Command Delete(Cli cli, Option<string?> url)
    {
        var org = ProviderCommands.OrgArgument();
        var yes = Cli.YesOption();
        var cmd = cli.Command("delete",
            "Delete a suspended organization for good: its keys, admins, sessions, usage and webhooks are erased; its audit log is kept.",
            "keygate provider orgs delete 42", "keygate provider orgs delete 42 --yes --json");
        cmd.Arguments.Add(org);
        cmd.Options.Add(yes);
        cmd.SetAction(async (pr, ct) =>
        {
            var id = pr.GetValue(org);
            if (cli.MustAsk(pr.GetValue(yes)) && !cli.Ask($"Delete organization {Id(id)} and every key and admin of it? This cannot be undone.")) return ExitCodes.Other;
            return await ProviderCommands.WithProviderAsync(cli, pr, url, async (c, output) =>
            {
                await c.DeleteAsync($"provider/v1/organizations/{Id(id)}", ct);
                if (output.Json) output.Document(new { id, deleted = true });
                else output.Note($"Organization {Id(id)} deleted.");
            });
        });
        return cmd;
    }
}
