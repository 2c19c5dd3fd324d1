using System.CommandLine;

namespace Keygate.Cli.Commands;

/// <summary>keygate password change: the logged-in admin changes their own password (POST /api/v1/passwordChange, contract A8).</summary>
public static class PasswordCommand
{
    private const string NewVariable = "KEYGATE_NEW_PASSWORD";

    public static Command Create(Cli cli)
    {
        var password = cli.Command("password", "Your own password (needs 'keygate login').", "keygate password change");
        var change = cli.Command("change",
            "Change your own password. The current one comes from KEYGATE_PASSWORD or a prompt, the new one from " +
            $"{NewVariable} or a prompt (asked twice), both without echo. Your other sessions end; this one stays. " +
            "A wrong current password counts as a failed login.",
            "keygate password change", $"KEYGATE_PASSWORD=… {NewVariable}=… keygate password change --json");
        change.SetAction(async (pr, ct) =>
        {
            var output = cli.Output(pr);
            var session = cli.Sessions.Read() ?? throw new CliException(ExitCodes.Authentication, "Not logged in.", "Run 'keygate login' first.");
            var old = cli.Secret("KEYGATE_PASSWORD", "Current password");
            var prompted = cli.Env.GetVariable(NewVariable) is not { Length: > 0 };
            var fresh = cli.Secret(NewVariable, "New password");
            // A typo in a password nobody sees would lock the admin out: at a prompt it is asked twice.
            if (prompted && cli.Secret(NewVariable, "New password again") != fresh)
                throw new CliException(ExitCodes.Usage, "The two new passwords differ; nothing was changed.");
            await cli.OnSessionAsync((c, s) => c.PostAsync("api/v1/passwordChange",
                new { userName = s.Username, oldPassword = old, newPassword = fresh }, ct));
            if (output.Json) output.Document(new { username = session.Username, changed = true });
            else output.Note($"Password of {session.Username} changed; your other sessions have ended.");
            return ExitCodes.Success;
        });
        password.Subcommands.Add(change);
        return password;
    }
}
