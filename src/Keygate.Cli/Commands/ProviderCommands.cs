using System.CommandLine;
using System.Globalization;

namespace Keygate.Cli.Commands;

/// <summary>
/// keygate provider …: the provider API (contract B) for the operator and service providers, with the token in
/// KEYGATE_PROVIDER_TOKEN (never an argument, so it stays out of shell history). It never sees key values.
/// </summary>
public static class ProviderCommands
{
    public static Command Create(Cli cli)
    {
        var url = new Option<string?>("--url") { Description = "The Keygate server (default: KEYGATE_URL)", Recursive = true };
        var provider = cli.Command("provider",
            "The provider API for the operator and service providers: organizations, subscriptions, key disable/enable, limits, " +
            "usage and audit. The token comes from KEYGATE_PROVIDER_TOKEN.",
            "export KEYGATE_URL=https://keygate.example KEYGATE_PROVIDER_TOKEN=kgp_…",
            "keygate provider orgs list",
            "keygate provider keys disable 42 --reason TERMS_VIOLATION --note 'ticket 981'");
        provider.Options.Add(url);
        provider.Subcommands.Add(Orgs(cli, url));
        provider.Subcommands.Add(Subscription(cli, url));
        provider.Subcommands.Add(Keys(cli, url));
        provider.Subcommands.Add(Limits(cli, url));
        provider.Subcommands.Add(Usage(cli, url));
        provider.Subcommands.Add(Audit(cli, url));
        provider.Subcommands.Add(ProviderTokensCommands.Create(cli, url));
        return provider;
    }

    internal static Argument<long> OrgArgument() => new("org-id") { Description = "The organization's id" };

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs a provider call with a client that is disposed afterwards.</summary>
    internal static async Task<int> WithProviderAsync(Cli cli, ParseResult pr, Option<string?> url, Func<ApiClient, Output, Task> action)
    {
        var output = cli.Output(pr);
        using var client = cli.Provider(pr.GetValue(url));
        await action(client, output);
        return ExitCodes.Success;
    }

    // ---- organizations ----

    private static Command Orgs(Cli cli, Option<string?> url)
    {
        var orgs = cli.Command("orgs", "List, show, create, suspend, resume and delete organizations.", "keygate provider orgs list --search acme");

        var search = new Option<string?>("--search") { Description = "Only names that contain this text" };
        var list = cli.Command("list", "List the organizations this token may see.", "keygate provider orgs list", "keygate provider orgs list --json");
        list.Options.Add(search);
        list.SetAction((pr, ct) => WithProviderAsync(cli, pr, url, async (c, output) =>
        {
            var q = pr.GetValue(search) is { Length: > 0 } s ? "?search=" + Uri.EscapeDataString(s) : "";
            var response = await c.GetAsync("provider/v1/organizations" + q, ct);
            if (output.Json) { output.Raw(response.Body); return; }
            var all = response.As<Organization[]>();
            if (all.Length == 0) { output.Note("No organizations."); return; }
            var t = Output.Table("ID", "NAME", "PROVIDER", "SUBSCRIPTION", "KEYS");
            foreach (var o in all)
                Output.Row(t, Id(o.Id), o.Name, o.ServiceProviderId is { } sp ? Id(sp) : "operator", SubscriptionText(o.Subscription),
                    string.Join(", ", o.Keys.Select(k => $"{k.KeyType} {k.Id}: {k.Status}")));
            output.Write(t);
        }));

        var showId = OrgArgument();
        var show = cli.Command("show", "Show an organization: subscription, keys (never their values) and limits.", "keygate provider orgs show 42");
        show.Arguments.Add(showId);
        show.SetAction((pr, ct) => WithProviderAsync(cli, pr, url, async (c, output) =>
            PrintOrg(output, await c.GetAsync($"provider/v1/organizations/{pr.GetValue(showId)}", ct))));

        var name = new Option<string>("--name") { Description = "The organization's name", Required = true };
        var admin = new Option<string>("--admin-username") { Description = "Username of its first SUPER_ADMIN", Required = true };
        var spId = new Option<long?>("--service-provider-id") { Description = "Its service provider (operator token only; a service provider's token implies its own)" };
        var create = cli.Command("create",
            "Create an organization with its first admin. The admin's password comes from KEYGATE_ADMIN_PASSWORD or a prompt " +
            "without echo. Turn the subscription on with 'keygate provider subscription set'.",
            "KEYGATE_ADMIN_PASSWORD=… keygate provider orgs create --name 'Acme Corp' --admin-username admin@acme.example",
            "keygate provider subscription set 42 --enabled true --expires-at 2027-01-01");
        create.Options.Add(name);
        create.Options.Add(admin);
        create.Options.Add(spId);
        create.SetAction((pr, ct) => WithProviderAsync(cli, pr, url, async (c, output) =>
        {
            var password = cli.Secret("KEYGATE_ADMIN_PASSWORD", "Admin password");
            var response = await c.PostAsync("provider/v1/organizations", new
            {
                name = pr.GetValue(name),
                serviceProviderId = pr.GetValue(spId),
                admin = new { username = pr.GetValue(admin), password },
            }, ct);
            if (!output.Json) output.Note("Created:");
            PrintOrg(output, response);
        }));

        orgs.Subcommands.Add(list);
        orgs.Subcommands.Add(show);
        orgs.Subcommands.Add(create);
        ProviderOrgStateCommands.AddTo(orgs, cli, url);
        return orgs;
    }

    private static string SubscriptionText(Subscription s) =>
        !s.Enabled ? "off" : s.ExpiresAt is { } e ? $"on, expires {Output.Time(e)}" : "on, never expires";

    internal static void PrintOrg(Output output, ApiResponse response)
    {
        if (output.Json) { output.Raw(response.Body); return; }
        var o = response.As<Organization>();
        var l = o.Limits;
        output.Write(Output.Pairs(
        [
            ("Id", Id(o.Id)),
            ("Name", o.Name),
            ("Service provider", o.ServiceProviderId is { } sp ? Id(sp) : "none (operator)"),
            ("Base URL", o.BaseUrl),
            ("Subscription", SubscriptionText(o.Subscription)),
            ("Suspended", o.Suspended ? "yes" : "no"),
            ("End sessions on key change", o.EndSessionsOnKeyChange ? "yes" : "no"),
            ("Call threshold", $"{Output.N(l.CallThreshold.Calls)} per {Output.N(l.CallThreshold.WindowSeconds)} s, warning at {l.CallThreshold.WarnAtPercent}%"),
            ("Rates", $"light {l.Rates.Light.PerSecond}/s {l.Rates.Light.PerHour}/h; medium {l.Rates.Medium.PerSecond}/s {l.Rates.Medium.PerHour}/h; heavy {l.Rates.Heavy.PerMinute}/min {l.Rates.Heavy.PerHour}/h"),
            ("Sandbox quota", $"{l.SandboxDailyQuota} files per day"),
        ]));
        if (o.Keys.Length == 0) { output.Note("No keys."); return; }
        var t = Output.Table("KEY ID", "TYPE", "STATUS", "MODIFIED");
        foreach (var k in o.Keys)
            Output.Row(t, Id(k.Id), k.KeyType, k.DisabledReason is { } r ? $"{k.Status} ({r})" : k.Status, Output.Time(k.LastModifiedTime));
        output.Write(t);
    }

    // ---- subscription ----

    /// <summary>"never", epoch seconds, or an ISO 8601 date or time (UTC unless it says otherwise).</summary>
    public static long? ParseExpiry(string text)
    {
        text = text.Trim();
        if (text.Equals("never", StringComparison.OrdinalIgnoreCase)) return null;
        if (text.All(char.IsAsciiDigit) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var s)) return s;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var d))
            return d.ToUnixTimeSeconds();
        throw new CliException(ExitCodes.Usage, $"'{text}' is not a time: use 'never', epoch seconds, or a date like 2027-01-01 or 2027-01-01T12:00:00Z.");
    }

    private static Command Subscription(Cli cli, Option<string?> url)
    {
        var sub = cli.Command("subscription", "Turn an organization's API subscription on or off, renew it, or let it expire now.",
            "keygate provider subscription renew 42 --days 365");

        var setId = OrgArgument();
        var enabled = new Option<bool?>("--enabled") { Description = "true: the org has an API subscription; false: none (keys are kept)" };
        var expiresAt = new Option<string?>("--expires-at") { Description = "'never', epoch seconds, or a date/time (UTC unless stated); default: unchanged" };
        var set = cli.Command("set", "Set the subscription; what you leave out stays as it is. Turning it on provisions a Cloud Service key if the org has none.",
            "keygate provider subscription set 42 --enabled true --expires-at 2027-01-01",
            "keygate provider subscription set 42 --enabled false");
        set.Arguments.Add(setId);
        set.Options.Add(enabled);
        set.Options.Add(expiresAt);
        set.SetAction((pr, ct) =>
        {
            if (pr.GetValue(enabled) is null && pr.GetValue(expiresAt) is null)
                throw new CliException(ExitCodes.Usage, "Give --enabled, --expires-at or both.");
            var expiry = pr.GetValue(expiresAt) is { } text ? ParseExpiry(text) : (long?)null;
            return WithProviderAsync(cli, pr, url, async (c, output) =>
            {
                var org = pr.GetValue(setId);
                var current = (await c.GetAsync($"provider/v1/organizations/{org}", ct)).As<Organization>();
                var body = new
                {
                    enabled = pr.GetValue(enabled) ?? current.Subscription.Enabled,
                    expiresAt = pr.GetValue(expiresAt) is null ? current.Subscription.ExpiresAt : expiry,
                };
                PrintSubscription(output, await c.PutAsync($"provider/v1/organizations/{org}/subscription", body, ct));
            });
        });

        var renewId = OrgArgument();
        var until = new Option<string?>("--until") { Description = "The new expiry: 'never', epoch seconds or a date/time" };
        var days = new Option<int?>("--days") { Description = "Extend by this many days from the current expiry (or from now if it has passed)" };
        var renew = cli.Command("renew", "Turn the subscription on with a later expiry: a kept key works again as before (unless it is disabled).",
            "keygate provider subscription renew 42 --days 365", "keygate provider subscription renew 42 --until 2027-06-30");
        renew.Arguments.Add(renewId);
        renew.Options.Add(until);
        renew.Options.Add(days);
        renew.SetAction((pr, ct) =>
        {
            var (u, d) = (pr.GetValue(until), pr.GetValue(days));
            if ((u is null) == (d is null)) throw new CliException(ExitCodes.Usage, "Give exactly one of --until and --days.");
            if (d is <= 0) throw new CliException(ExitCodes.Usage, "--days must be positive.");
            var untilValue = u is null ? null : ParseExpiry(u);
            return WithProviderAsync(cli, pr, url, async (c, output) =>
            {
                var org = pr.GetValue(renewId);
                var expiry = untilValue;
                if (d is { } n)
                {
                    var current = (await c.GetAsync($"provider/v1/organizations/{org}", ct)).As<Organization>();
                    var now = cli.Env.Clock.GetUtcNow().ToUnixTimeSeconds();
                    var from = current.Subscription.ExpiresAt is { } e && e > now ? e : now;
                    expiry = from + n * 86400L;
                }
                PrintSubscription(output, await c.PutAsync($"provider/v1/organizations/{org}/subscription", new { enabled = true, expiresAt = expiry }, ct));
            });
        });

        var expireId = OrgArgument();
        var expire = cli.Command("expire", "Let the subscription expire now: logins and sessions get SUBSCRIPTION_EXPIRED until it is renewed.",
            "keygate provider subscription expire 42");
        expire.Arguments.Add(expireId);
        expire.SetAction((pr, ct) => WithProviderAsync(cli, pr, url, async (c, output) =>
        {
            var org = pr.GetValue(expireId);
            var current = (await c.GetAsync($"provider/v1/organizations/{org}", ct)).As<Organization>();
            var now = cli.Env.Clock.GetUtcNow().ToUnixTimeSeconds();
            PrintSubscription(output, await c.PutAsync($"provider/v1/organizations/{org}/subscription",
                new { enabled = current.Subscription.Enabled, expiresAt = now }, ct));
        }));

        sub.Subcommands.Add(set);
        sub.Subcommands.Add(renew);
        sub.Subcommands.Add(expire);
        return sub;
    }

    private static void PrintSubscription(Output output, ApiResponse response)
    {
        if (output.Json) { output.Raw(response.Body); return; }
        var o = response.As<Organization>();
        output.Note($"Subscription of {o.Name} ({Id(o.Id)}): {SubscriptionText(o.Subscription)}.");
    }

    // ---- keys ----

    private static Command Keys(Cli cli, Option<string?> url)
    {
        var keys = cli.Command("keys", "Disable or enable an organization's key (the provider side never sees key values).",
            "keygate provider keys disable 42 --reason OTHER", "keygate provider keys enable 42");

        var (dOrg, dKey, dType) = KeyArguments();
        var reason = new Option<string>("--reason") { Description = "Why", Required = true };
        reason.AcceptOnlyFromAmong("TERMS_VIOLATION", "OTHER");
        var note = new Option<string?>("--note") { Description = "A note for the audit log (at most 1000 characters)" };
        var disable = cli.Command("disable", "Disable a key: logins and its sessions get API_KEY_DISABLED until it is enabled.",
            "keygate provider keys disable 42 --reason TERMS_VIOLATION --note 'ticket 981'",
            "keygate provider keys disable 42 5678 --reason OTHER");
        disable.Arguments.Add(dOrg);
        disable.Arguments.Add(dKey);
        disable.Options.Add(dType);
        disable.Options.Add(reason);
        disable.Options.Add(note);
        disable.SetAction((pr, ct) => WithProviderAsync(cli, pr, url, async (c, output) =>
        {
            var (org, key) = (pr.GetValue(dOrg), await KeyIdAsync(c, pr.GetValue(dOrg), pr.GetValue(dKey), pr.GetValue(dType)!, ct));
            PrintProviderKey(output, await c.PostAsync($"provider/v1/organizations/{org}/apiKeys/{key}/disable",
                new { reason = pr.GetValue(reason), note = pr.GetValue(note) }, ct), "Disabled");
        }));

        var (eOrg, eKey, eType) = KeyArguments();
        var enable = cli.Command("enable", "Enable a disabled key (one the threshold disabled starts a fresh window).",
            "keygate provider keys enable 42", "keygate provider keys enable 42 --type SANDBOX_SUBMISSION");
        enable.Arguments.Add(eOrg);
        enable.Arguments.Add(eKey);
        enable.Options.Add(eType);
        enable.SetAction((pr, ct) => WithProviderAsync(cli, pr, url, async (c, output) =>
        {
            var (org, key) = (pr.GetValue(eOrg), await KeyIdAsync(c, pr.GetValue(eOrg), pr.GetValue(eKey), pr.GetValue(eType)!, ct));
            PrintProviderKey(output, await c.PostAsync($"provider/v1/organizations/{org}/apiKeys/{key}/enable", null, ct), "Enabled");
        }));

        keys.Subcommands.Add(disable);
        keys.Subcommands.Add(enable);
        return keys;
    }

    private static (Argument<long> Org, Argument<long?> Key, Option<string> Type) KeyArguments()
    {
        var key = new Argument<long?>("key-id") { Description = "The key's id (default: the org's key of --type)", Arity = ArgumentArity.ZeroOrOne };
        var type = new Option<string>("--type") { Description = "Which key when no key id is given", DefaultValueFactory = _ => "CLOUD_SERVICE" };
        type.AcceptOnlyFromAmong("CLOUD_SERVICE", "SANDBOX_SUBMISSION");
        return (OrgArgument(), key, type);
    }

    private static async Task<long> KeyIdAsync(ApiClient c, long org, long? key, string type, CancellationToken ct)
    {
        if (key is { } k) return k;
        var o = (await c.GetAsync($"provider/v1/organizations/{org}", ct)).As<Organization>();
        return o.Keys.FirstOrDefault(x => x.KeyType == type)?.Id
            ?? throw new CliException(ExitCodes.ForbiddenOrNotFound, $"Organization {org} has no {type} key.");
    }

    private static void PrintProviderKey(Output output, ApiResponse response, string verb)
    {
        if (output.Json) { output.Raw(response.Body); return; }
        var k = response.As<ApiKey>();
        output.Note($"{verb}:");
        output.Write(KeysCommands.KeyTable([k with { KeyValue = "(hidden)" }]));
    }

    // ---- limits, usage, audit ----

    private static Command Limits(Cli cli, Option<string?> url)
    {
        var limits = cli.Command("limits", "Change an organization's call threshold, rate limits and sandbox quota.",
            "keygate provider limits set 42 --calls 200000 --light-per-second 5");
        var org = OrgArgument();
        Option<long?> L(string name, string description) => new(name) { Description = description };
        Option<int?> I(string name, string description) => new(name) { Description = description };
        var calls = L("--calls", "Calls per threshold window; call N+1 disables the Cloud Service key");
        var window = L("--window-seconds", "Length of the threshold window");
        var warn = I("--warn-at-percent", "Warn (audit and webhook) at this share of the threshold, 1-100");
        var lightS = I("--light-per-second", "GET calls per second");
        var lightH = I("--light-per-hour", "GET calls per hour");
        var mediumS = I("--medium-per-second", "POST and PUT calls per second");
        var mediumH = I("--medium-per-hour", "POST and PUT calls per hour");
        var heavyM = I("--heavy-per-minute", "DELETE calls per minute");
        var heavyH = I("--heavy-per-hour", "DELETE calls per hour");
        var quota = I("--sandbox-daily-quota", "Sandbox files per UTC day");
        var set = cli.Command("set", "Set the limits you give; the others keep their values.",
            "keygate provider limits set 42 --calls 200000 --window-seconds 86400 --warn-at-percent 90",
            "keygate provider limits set 42 --heavy-per-minute 5 --heavy-per-hour 50 --json");
        set.Arguments.Add(org);
        foreach (var o in new Option[] { calls, window, warn, lightS, lightH, mediumS, mediumH, heavyM, heavyH, quota }) set.Options.Add(o);
        set.SetAction((pr, ct) =>
        {
            object? Part(params (string Name, object? Value)[] fields) =>
                fields.All(f => f.Value is null) ? null : fields.Where(f => f.Value is not null).ToDictionary(f => f.Name, f => f.Value);
            var body = new Dictionary<string, object?>
            {
                ["callThreshold"] = Part(("calls", pr.GetValue(calls)), ("windowSeconds", pr.GetValue(window)), ("warnAtPercent", pr.GetValue(warn))),
                ["rates"] = Part(
                    ("light", Part(("perSecond", pr.GetValue(lightS)), ("perHour", pr.GetValue(lightH)))),
                    ("medium", Part(("perSecond", pr.GetValue(mediumS)), ("perHour", pr.GetValue(mediumH)))),
                    ("heavy", Part(("perMinute", pr.GetValue(heavyM)), ("perHour", pr.GetValue(heavyH))))),
                ["sandboxDailyQuota"] = pr.GetValue(quota),
            }.Where(p => p.Value is not null).ToDictionary();
            if (body.Count == 0) throw new CliException(ExitCodes.Usage, "Give at least one limit to change (see --help).");
            return WithProviderAsync(cli, pr, url, async (c, output) =>
            {
                var response = await c.PutAsync($"provider/v1/organizations/{pr.GetValue(org)}/limits", body, ct);
                if (output.Json) { output.Raw(response.Body); return; }
                var l = response.As<Limits>();
                var t = Output.Table("LIMIT", "VALUE");
                Output.Row(t, "call threshold", $"{Output.N(l.CallThreshold.Calls)} per {Output.N(l.CallThreshold.WindowSeconds)} s");
                Output.Row(t, "warning at", $"{l.CallThreshold.WarnAtPercent}%");
                Output.Row(t, "light (GET)", $"{Output.N(l.Rates.Light.PerSecond)}/s, {Output.N(l.Rates.Light.PerHour)}/h");
                Output.Row(t, "medium (POST, PUT)", $"{Output.N(l.Rates.Medium.PerSecond)}/s, {Output.N(l.Rates.Medium.PerHour)}/h");
                Output.Row(t, "heavy (DELETE)", $"{Output.N(l.Rates.Heavy.PerMinute)}/min, {Output.N(l.Rates.Heavy.PerHour)}/h");
                Output.Row(t, "sandbox", $"{Output.N(l.SandboxDailyQuota)} files/day");
                output.Write(t);
            });
        });
        limits.Subcommands.Add(set);
        return limits;
    }

    private static Command Usage(Cli cli, Option<string?> url)
    {
        var org = OrgArgument();
        var cmd = cli.Command("usage", "Show an organization's calls against its threshold and rate limits.", "keygate provider usage 42");
        cmd.Arguments.Add(org);
        cmd.SetAction((pr, ct) => WithProviderAsync(cli, pr, url, async (c, output) =>
            UsageCommand.Print(output, await c.GetAsync($"provider/v1/organizations/{pr.GetValue(org)}/usage", ct))));
        return cmd;
    }

    private static Command Audit(Cli cli, Option<string?> url)
    {
        var org = OrgArgument();
        var after = new Option<string?>("--after") { Description = "Start after this cursor (the 'next' of a previous page)" };
        var limit = new Option<int>("--limit") { Description = "Events per page, 1-100", DefaultValueFactory = _ => 50 };
        var all = new Option<bool>("--all") { Description = "Follow the pages to the end" };
        var cmd = cli.Command("audit", "Show an organization's audit log, oldest first.",
            "keygate provider audit 42", "keygate provider audit 42 --after 1200 --limit 100", "keygate provider audit 42 --all --json");
        cmd.Arguments.Add(org);
        cmd.Options.Add(after);
        cmd.Options.Add(limit);
        cmd.Options.Add(all);
        cmd.SetAction((pr, ct) => WithProviderAsync(cli, pr, url, async (c, output) =>
        {
            var items = new List<AuditItem>();
            var cursor = pr.GetValue(after);
            string? firstBody = null;
            while (true)
            {
                var q = $"?limit={pr.GetValue(limit)}" + (cursor is null ? "" : "&after=" + Uri.EscapeDataString(cursor));
                var response = await c.GetAsync($"provider/v1/organizations/{pr.GetValue(org)}/audit{q}", ct);
                firstBody ??= response.Body;
                var page = response.As<AuditPage>();
                items.AddRange(page.Items);
                cursor = page.Next;
                if (!pr.GetValue(all) || cursor is null) break;
            }
            if (output.Json)
            {
                // One page: the server's body. --all: the same shape with every item and no next page.
                if (pr.GetValue(all)) output.Document(new { items, next = (string?)null });
                else output.Raw(firstBody!);
                return;
            }
            var t = Output.Table("ID", "TIME", "ACTOR", "ACTION", "KEY", "OUTCOME", "ADDRESS", "DETAIL");
            foreach (var e in items)
                Output.Row(t, Id(e.Id), Output.Time(e.Time), e.Actor, e.Action, e.KeyId is { } k ? Id(k) : "", e.Outcome, e.ClientAddress, e.Detail);
            output.Write(t);
            if (cursor is not null) output.Note($"More: keygate provider audit {pr.GetValue(org)} --after {cursor}");
        }));
        return cmd;
    }
}
