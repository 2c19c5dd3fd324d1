using System.CommandLine;

namespace Keygate.Cli.Commands;

/// <summary>keygate keys …: the org's keys through the legacy session (contract A4). These print key values: it is their job.</summary>
public static class KeysCommands
{
    private static readonly string[] KeyTypes = ["CLOUD_SERVICE", "SANDBOX_SUBMISSION", "ALL"];

    public static Command Create(Cli cli)
    {
        var keys = cli.Command("keys", "List, add, edit, regenerate and delete the organization's API keys (needs 'keygate login').",
            "keygate keys list --type ALL", "keygate keys regenerate 1234");
        keys.Subcommands.Add(List(cli));
        keys.Subcommands.Add(Add(cli));
        keys.Subcommands.Add(Edit(cli));
        keys.Subcommands.Add(Regenerate(cli));
        keys.Subcommands.Add(Delete(cli));
        return keys;
    }

    private static Argument<long> IdArgument() => new("id") { Description = "The key's id (from 'keygate keys list')" };

    private static Command List(Cli cli)
    {
        var type = new Option<string>("--type", "-t") { Description = "Which keys", DefaultValueFactory = _ => "ALL" };
        type.AcceptOnlyFromAmong(KeyTypes);
        var cmd = cli.Command("list", "List the keys with their values and status.",
            "keygate keys list", "keygate keys list --type CLOUD_SERVICE --json | jq -r '.[0].keyValue'");
        cmd.Options.Add(type);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var response = await cli.OnSessionAsync((c, _) => c.GetAsync($"api/v1/apiKeys?keyType={pr.GetValue(type)}", ct));
            if (output.Json) output.Raw(response.Body);
            else
            {
                var list = response.As<ApiKey[]>();
                if (list.Length == 0) output.Note("No keys.");
                else output.Write(KeyTable(list));
            }
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Add(Cli cli)
    {
        var type = new Option<string>("--type", "-t")
        {
            Description = "The key type; a Cloud Service key can in practice only be added in the portal",
            DefaultValueFactory = _ => "SANDBOX_SUBMISSION",
        };
        type.AcceptOnlyFromAmong("SANDBOX_SUBMISSION", "CLOUD_SERVICE");
        var cmd = cli.Command("add", "Add a key (by default the Sandbox Submission key) and print it.",
            "keygate keys add --type SANDBOX_SUBMISSION");
        cmd.Options.Add(type);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var response = await cli.OnSessionAsync((c, _) => c.PostAsync("api/v1/apiKeys", new { keyType = pr.GetValue(type) }, ct));
            PrintKey(output, response, "Added");
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static Command Edit(Cli cli)
    {
        var id = IdArgument();
        var value = new Option<string?>("--value")
        {
            Description = "Only '-': read the new value from stdin (a value itself is refused: shell history would keep it)",
        };
        var yes = Cli.YesOption();
        var cmd = cli.Command("edit",
            "Set the Cloud Service key to a value of your choice (exactly 12 characters of A-Z, a-z, 0-9). The old value stops " +
            "working at once. The value comes from KEYGATE_NEW_KEY, from stdin with '--value -', or from a prompt without echo.",
            "keygate keys edit 1234", "pass show keygate/new-key | keygate keys edit 1234 --value - --yes --json");
        cmd.Arguments.Add(id);
        cmd.Options.Add(value);
        cmd.Options.Add(yes);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var keyId = pr.GetValue(id);
            var newValue = cli.Secret("KEYGATE_NEW_KEY", "New key value", "--value", pr.GetValue(value)).Trim();
            var ask = cli.MustAsk(pr.GetValue(yes));
            return await cli.OnSessionAsync(async (c, _) =>
            {
                if (ask && !cli.Ask($"Change the value of {await DescribeAsync(c, keyId, ct)}? Clients with the old value stop working at once."))
                    return ExitCodes.Other;
                PrintKey(output, await c.PutAsync($"api/v1/apiKeys/{keyId}", new { keyValue = newValue }, ct), "Changed");
                return ExitCodes.Success;
            });
        });
        return cmd;
    }

    private static Command Regenerate(Cli cli)
    {
        var id = IdArgument();
        var yes = Cli.YesOption();
        var cmd = cli.Command("regenerate", "Replace a key with a new random value and print it. The old value stops working at once.",
            "keygate keys regenerate 1234", "keygate keys regenerate 1234 --yes --json | jq -r .keyValue");
        cmd.Arguments.Add(id);
        cmd.Options.Add(yes);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var keyId = pr.GetValue(id);
            var ask = cli.MustAsk(pr.GetValue(yes));
            return await cli.OnSessionAsync(async (c, _) =>
            {
                if (ask && !cli.Ask($"Regenerate {await DescribeAsync(c, keyId, ct)}? Clients with the old value stop working at once."))
                    return ExitCodes.Other;
                PrintKey(output, await c.PostAsync($"api/v1/apiKeys/{keyId}/regenerate", new { }, ct), "Regenerated");
                return ExitCodes.Success;
            });
        });
        return cmd;
    }

    private static Command Delete(Cli cli)
    {
        var id = IdArgument();
        var yes = Cli.YesOption();
        var cmd = cli.Command("delete",
            "Delete a key. Deleting the Cloud Service key ends every session of the organization, this one included; " +
            "a new Cloud Service key is then added in the portal.",
            "keygate keys delete 5678", "keygate keys delete 5678 --yes --json");
        cmd.Arguments.Add(id);
        cmd.Options.Add(yes);
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var keyId = pr.GetValue(id);
            var ask = cli.MustAsk(pr.GetValue(yes));
            var (cancelled, type) = await cli.OnSessionAsync(async (c, _) =>
            {
                var type = await TypeOfAsync(c, keyId, ct);
                var warning = type == "CLOUD_SERVICE"
                    ? " This ends every session of the organization, this one included; a new Cloud Service key can only be added in the portal."
                    : "";
                if (ask && !cli.Ask($"Delete {Describe(keyId, type)}?{warning}")) return (true, type);
                await c.DeleteAsync($"api/v1/apiKeys/{keyId}", ct);
                return (false, type);
            });
            if (cancelled) return ExitCodes.Other;
            var sessionEnded = type == "CLOUD_SERVICE";
            if (sessionEnded) cli.Sessions.Delete();
            if (output.Json) output.Document(new { id = keyId, keyType = type, deleted = true, sessionEnded });
            else output.Note($"Deleted {Describe(keyId, type)}.");
            if (sessionEnded)
                output.Note("Every session of the organization has ended, this one too, and the stored session was removed. " +
                    "A new Cloud Service key is added in the portal (Administration › API Configuration › Legacy API); then run 'keygate login' again.");
            return ExitCodes.Success;
        });
        return cmd;
    }

    /// <summary>The key's type, or null when the list does not show it (the server then answers the change with 404).</summary>
    private static async Task<string?> TypeOfAsync(ApiClient c, long id, CancellationToken ct) =>
        (await c.GetAsync("api/v1/apiKeys?keyType=ALL", ct)).As<ApiKey[]>().FirstOrDefault(k => k.Id == id)?.KeyType;

    private static async Task<string> DescribeAsync(ApiClient c, long id, CancellationToken ct) => Describe(id, await TypeOfAsync(c, id, ct));

    private static string Describe(long id, string? type) => type switch
    {
        "CLOUD_SERVICE" => $"the Cloud Service key {id}",
        "SANDBOX_SUBMISSION" => $"the Sandbox Submission key {id}",
        _ => $"key {id}",
    };

    private static void PrintKey(Output output, ApiResponse response, string verb)
    {
        if (output.Json) { output.Raw(response.Body); return; }
        var key = response.As<ApiKey>();
        output.Note($"{verb} {Describe(key.Id, key.KeyType)}:");
        output.Write(KeyTable([key]));
    }

    public static Spectre.Console.Table KeyTable(IEnumerable<ApiKey> keys)
    {
        var t = Output.Table("ID", "TYPE", "VALUE", "STATUS", "MODIFIED", "BY");
        foreach (var k in keys)
            Output.Row(t, k.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), k.KeyType, k.KeyValue ?? "",
                k.DisabledReason is { } r ? $"{k.Status} ({r})" : k.Status, Output.Time(k.LastModifiedTime), k.LastModifiedBy?.Name);
        return t;
    }
}
