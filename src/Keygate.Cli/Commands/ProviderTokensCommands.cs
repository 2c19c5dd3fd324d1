using System.CommandLine;
using System.Globalization;

namespace Keygate.Cli.Commands;

/// <summary>
/// keygate provider tokens …: provider API tokens over time (contract B v3). A new token is printed once; lists never
/// show values. The token the CLI itself uses still comes from KEYGATE_PROVIDER_TOKEN.
/// </summary>
public static class ProviderTokensCommands
{
    public static Command Create(Cli cli, Option<string?> url)
    {
        var tokens = cli.Command("tokens", "List, create, rotate and revoke provider API tokens.",
            "keygate provider tokens list", "keygate provider tokens rotate 7 --grace-seconds 3600");
        tokens.Subcommands.Add(List(cli, url));
        tokens.Subcommands.Add(New(cli, url));
        tokens.Subcommands.Add(Rotate(cli, url));
        tokens.Subcommands.Add(Revoke(cli, url));
        return tokens;
    }

    private static Argument<long> TokenArgument() => new("token-id") { Description = "The token's id (from 'keygate provider tokens list')" };

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static Command List(Cli cli, Option<string?> url)
    {
        var cmd = cli.Command("list", "List the tokens this token may manage (the operator's: all; a service provider's: its own).",
            "keygate provider tokens list", "keygate provider tokens list --json");
        cmd.SetAction((pr, ct) => ProviderCommands.WithProviderAsync(cli, pr, url, async (c, output) =>
        {
            var response = await c.GetAsync("provider/v1/tokens", ct);
            if (output.Json) { output.Raw(response.Body); return; }
            var all = response.As<ProviderTokenInfo[]>();
            var t = Output.Table("ID", "NAME", "PREFIX", "PROVIDER", "CREATED", "EXPIRES", "LAST USED", "REVOKED");
            foreach (var k in all)
                Output.Row(t, Id(k.Id), k.Name, k.Prefix + "…", k.ServiceProviderId is { } sp ? Id(sp) : "operator", Output.Time(k.CreatedAt),
                    k.ExpiresAt is null ? "never" : Output.Time(k.ExpiresAt), k.LastUsedAt is null ? "never" : Output.Time(k.LastUsedAt),
                    k.RevokedAt is null ? "" : Output.Time(k.RevokedAt));
            output.Write(t);
        }));
        return cmd;
    }

    private static void PrintNew(Output output, ApiResponse response, string what)
    {
        if (output.Json) { output.Raw(response.Body); return; }
        var k = response.As<ProviderTokenInfo>();
        output.Note($"{what} token {Id(k.Id)} '{k.Name}' (shown once, store it now):");
        output.Note(k.Token ?? "");
    }

    private static Command New(Cli cli, Option<string?> url)
    {
        var name = new Option<string>("--name") { Description = "What the token is for", Required = true };
        var expiresAt = new Option<string?>("--expires-at") { Description = "'never' (default), epoch seconds, or a date/time (UTC unless stated)" };
        var spId = new Option<long?>("--service-provider-id") { Description = "A service provider's token (operator only; a service provider's token implies its own)" };
        var cmd = cli.Command("create", "Create a token; it is printed once.",
            "keygate provider tokens create --name 'deploy bot' --expires-at 2027-01-01",
            "keygate provider tokens create --name ci --json | jq -r .token");
        cmd.Options.Add(name);
        cmd.Options.Add(expiresAt);
        cmd.Options.Add(spId);
        cmd.SetAction((pr, ct) => ProviderCommands.WithProviderAsync(cli, pr, url, async (c, output) =>
        {
            var expiry = pr.GetValue(expiresAt) is { } e ? ProviderCommands.ParseExpiry(e) : null;
            PrintNew(output, await c.PostAsync("provider/v1/tokens", new { name = pr.GetValue(name), expiresAt = expiry, serviceProviderId = pr.GetValue(spId) }, ct),
                "New");
        }));
        return cmd;
    }

    private static Command Rotate(Cli cli, Option<string?> url)
    {
        var id = TokenArgument();
        var grace = new Option<int?>("--grace-seconds") { Description = "How long the old token keeps working, 0 to 604800 (default 86400, a day)" };
        var cmd = cli.Command("rotate", "Replace a token by a new one, printed once; the old one works until the grace period ends.",
            "keygate provider tokens rotate 7", "keygate provider tokens rotate 7 --grace-seconds 0 --json");
        cmd.Arguments.Add(id);
        cmd.Options.Add(grace);
        cmd.SetAction((pr, ct) => ProviderCommands.WithProviderAsync(cli, pr, url, async (c, output) =>
        {
            var body = pr.GetValue(grace) is { } g ? new { graceSeconds = g } : null;
            PrintNew(output, await c.PostAsync($"provider/v1/tokens/{Id(pr.GetValue(id))}/rotate", body, ct), "Rotated: new");
        }));
        return cmd;
    }

    private static Command Revoke(Cli cli, Option<string?> url)
    {
        var id = TokenArgument();
        var yes = Cli.YesOption();
        var cmd = cli.Command("revoke", "Revoke a token at once, on every node. The last operator token cannot be revoked.",
            "keygate provider tokens revoke 7", "keygate provider tokens revoke 7 --yes --json");
        cmd.Arguments.Add(id);
        cmd.Options.Add(yes);
        cmd.SetAction(async (pr, ct) =>
        {
            var tokenId = pr.GetValue(id);
            if (cli.MustAsk(pr.GetValue(yes)) && !cli.Ask($"Revoke token {Id(tokenId)}? Everything that uses it is refused from its next request.")) return ExitCodes.Other;
            return await ProviderCommands.WithProviderAsync(cli, pr, url, async (c, output) =>
            {
                await c.DeleteAsync($"provider/v1/tokens/{Id(tokenId)}", ct);
                if (output.Json) output.Document(new { id = tokenId, revoked = true });
                else output.Note($"Token {Id(tokenId)} revoked.");
            });
        });
        return cmd;
    }
}
