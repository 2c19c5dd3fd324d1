using Keygate.Kernel;

namespace Keygate.Hosting;

/// <summary>
/// Where the secrets of a first start go (the operator token, the demo admin's password). A terminal shows them to
/// the person who started Keygate; any other stdout (a pipe, a log file, journald, docker logs) would keep them for
/// whoever reads the logs, so they go to a file only the service's user can read, beside the KEK, and the output
/// names the file but never the secret.
/// </summary>
public sealed class FirstStartCredentials(string folder, TimeProvider clock)
{
    public const string FileName = "first-start-credentials.txt";
    private readonly bool _toTerminal = !Console.IsOutputRedirected;
    private readonly List<string> _stored = [];

    public string FilePath => Path.Combine(folder, FileName);

    /// <summary>
    /// Shows one line with a secret, or appends it to the file. Appending keeps what an earlier first start wrote
    /// (say, the operator token before a later start with --demo) until the operator deletes the file.
    /// </summary>
    public void Reveal(string what, string line)
    {
        if (_toTerminal) { Console.WriteLine(line); return; }
        PrivateFiles.CreateFolder(folder);
        using var w = new StreamWriter(PrivateFiles.Open(FilePath, FileMode.Append));
        if (_stored.Count == 0) w.WriteLine($"# Keygate first start at {clock.GetUtcNow():yyyy-MM-dd HH:mm:ss'Z'}");
        w.WriteLine(line);
        _stored.Add(what);
    }

    /// <summary>Says where the stored secrets are.</summary>
    public void Announce()
    {
        if (_stored.Count == 0) return;
        Console.WriteLine($"{string.Join(" and ", _stored)} written to {FilePath} (mode 0600), as stdout is not a terminal. " +
            "Keep them safe, then delete the file.");
    }
}
