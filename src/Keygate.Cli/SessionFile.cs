using System.Text.Json;

namespace Keygate.Cli;

/// <summary>What <c>keygate login</c> keeps: the server and the session id. Never the password or the key.</summary>
public sealed record StoredSession(string Url, string SessionId, string Username, long CreatedAt);

/// <summary>
/// The per-user session file: $KEYGATE_CONFIG_DIR/session.json, else $XDG_CONFIG_HOME/keygate/session.json, else
/// ~/.config/keygate/session.json (%APPDATA%\keygate on Windows). The session id is a bearer credential, so the file
/// is created 0600 in a 0700 folder and replaced atomically.
/// </summary>
public sealed class SessionFile(CliEnvironment env)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Directory
    {
        get
        {
            if (env.GetVariable("KEYGATE_CONFIG_DIR") is { Length: > 0 } dir) return dir;
            if (OperatingSystem.IsWindows())
                return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "keygate");
            if (env.GetVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg) return Path.Combine(xdg, "keygate");
            var home = env.GetVariable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".config", "keygate");
        }
    }

    public string FilePath => Path.Combine(Directory, "session.json");

    public StoredSession? Read()
    {
        try
        {
            return File.Exists(FilePath) ? JsonSerializer.Deserialize<StoredSession>(File.ReadAllText(FilePath), Json) : null;
        }
        catch (JsonException)
        {
            return null; // a damaged file is the same as none: log in again
        }
    }

    public void Write(StoredSession session)
    {
        var dir = Directory;
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(dir);
        else System.IO.Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temp = Path.Combine(dir, $".session.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var f = new FileStream(temp, options))
                JsonSerializer.Serialize(f, session, Json);
            File.Move(temp, FilePath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Removes the stored session; true when there was one.</summary>
    public bool Delete()
    {
        if (!File.Exists(FilePath)) return false;
        File.Delete(FilePath);
        return true;
    }
}
