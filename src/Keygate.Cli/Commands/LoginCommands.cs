using System.CommandLine;
using System.Text.RegularExpressions;

namespace Keygate.Cli.Commands;

/// <summary>keygate login and keygate logout: the legacy API's session (contract A2).</summary>
public static partial class LoginCommands
{
    [GeneratedRegex("JSESSIONID=(.*?);")]
    private static partial Regex SessionCookie();

    [GeneratedRegex("^[A-Za-z0-9]{12}$")]
    private static partial Regex CloudKey();

    public static IEnumerable<Command> Create(Cli cli)
    {
        yield return Login(cli);
        yield return Logout(cli);
    }

    private static Command Login(Cli cli)
    {
        var url = new Option<string?>("--url") { Description = "The Keygate server, e.g. https://keygate.example (default: KEYGATE_URL)" };
        var username = new Option<string?>("--username", "-u") { Description = "The org admin's username (default: KEYGATE_USERNAME)" };
        var cmd = cli.Command("login",
            "Log in as an org admin and store the session (never the password or the key). The password comes from " +
            "KEYGATE_PASSWORD or a prompt, the Cloud Service API key from KEYGATE_API_KEY or a prompt without echo.",
            "keygate login --url https://keygate.example --username admin@acme.example",
            "KEYGATE_PASSWORD=… KEYGATE_API_KEY=… keygate login --url https://keygate.example -u admin@acme.example --json");
        cmd.Options.Add(url);
        cmd.Options.Add(username);
        cmd.SetAction(async (pr, ct) =>
        {
            var env = cli.Env;
            var output = cli.Output(pr);
            var baseUrl = cli.Url(pr.GetValue(url));
            var user = pr.GetValue(username) ?? env.GetVariable("KEYGATE_USERNAME");
            if (string.IsNullOrWhiteSpace(user)) throw new CliException(ExitCodes.Usage, "Give the username with --username or KEYGATE_USERNAME.");
            if (baseUrl.Scheme == "http" && !baseUrl.IsLoopback)
                env.Error.WriteLine("warning: the password goes over plain HTTP; use https:// outside a test setup.");
            var password = cli.Secret("KEYGATE_PASSWORD", "Password");
            var key = cli.Secret("KEYGATE_API_KEY", "Cloud Service API key").Trim();
            if (!CloudKey().IsMatch(key))
                throw new CliException(ExitCodes.Usage, "The Cloud Service API key is 12 characters of A-Z, a-z and 0-9 (copy it from the portal).");

            var ts = env.Clock.GetUtcNow().ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            using var client = new ApiClient(env, baseUrl, _ => { });
            var response = await client.PostAsync("api/v1/auth",
                new { apiKey = Obfuscation.Obfuscate(key, ts), username = user, password, timestamp = ts }, ct);
            // Public SDKs read the id from the first Set-Cookie with the regex JSESSIONID=(.*?);
            var cookie = response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.FirstOrDefault() : null;
            var m = cookie is null ? null : SessionCookie().Match(cookie);
            if (m is not { Success: true } || m.Groups[1].Value.Length == 0)
                throw new CliException(ExitCodes.ServerOrNetwork, "The server accepted the login but sent no JSESSIONID cookie.");

            var previous = cli.Sessions.Read();
            cli.Sessions.Write(new StoredSession(baseUrl.ToString(), m.Groups[1].Value, user, env.Clock.GetUtcNow().ToUnixTimeSeconds()));
            if (previous is not null) await EndQuietlyAsync(cli, previous);

            if (output.Json) output.Document(new { url = baseUrl.ToString(), username = user, sessionFile = cli.Sessions.FilePath });
            else output.Note($"Logged in to {baseUrl} as {user}. Session stored in {cli.Sessions.FilePath}.");
            return ExitCodes.Success;
        });
        return cmd;
    }

    /// <summary>A session replaced by a new login is ended on the server too; failing to is not an error.</summary>
    private static async Task EndQuietlyAsync(Cli cli, StoredSession old)
    {
        try
        {
            using var client = new ApiClient(cli.Env, ApiClient.NormalizeUrl(old.Url), r => r.Headers.TryAddWithoutValidation("Cookie", $"JSESSIONID={old.SessionId}"));
            await client.DeleteAsync("api/v1/auth", CancellationToken.None);
        }
        catch (CliException)
        {
            // It expires on its own after 30 idle minutes.
        }
    }

    private static Command Logout(Cli cli)
    {
        var cmd = cli.Command("logout", "End the session on the server (DELETE /api/v1/auth) and remove the stored session file.",
            "keygate logout");
        cmd.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var session = cli.Sessions.Read();
            if (session is null)
            {
                cli.Sessions.Delete(); // a damaged file
                if (output.Json) output.Document(new { loggedOut = false });
                else output.Note("Not logged in.");
                return ExitCodes.Success;
            }
            var (client, _) = cli.Legacy();
            using (client)
            {
                try
                {
                    await client.DeleteAsync("api/v1/auth", ct);
                }
                finally
                {
                    // Even when the server cannot be reached, the local copy goes: the session then idles out.
                    cli.Sessions.Delete();
                }
            }
            if (output.Json) output.Document(new { loggedOut = true });
            else output.Note($"Logged out of {session.Url}.");
            return ExitCodes.Success;
        });
        return cmd;
    }
}
