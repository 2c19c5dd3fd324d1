namespace Keygate.Kernel;

/// <summary>
/// Folders (0700) and files (0600) only the service's user may open: the KEK, the SQLite database and the
/// first-start credentials. The mode is set explicitly after creating, because mkdir(2) and open(2) apply the
/// process's umask, which may be anything. Windows keeps its inherited ACLs.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerFolder = OwnerFile | UnixFileMode.UserExecute;

    /// <summary>
    /// Creates a missing folder 0700. An existing one keeps its mode: a configured path may point into a shared
    /// folder (even /tmp), which must not be changed.
    /// </summary>
    public static void CreateFolder(string path)
    {
        if (Directory.Exists(path)) return;
        if (OperatingSystem.IsWindows()) { Directory.CreateDirectory(path); return; }
        Directory.CreateDirectory(path, OwnerFolder);
        File.SetUnixFileMode(path, OwnerFolder);
    }

    /// <summary>Makes an existing file 0600; a missing one is no error (SQLite's -wal and -shm come and go).</summary>
    public static void Restrict(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path)) return;
        if (File.GetUnixFileMode(path) != OwnerFile) File.SetUnixFileMode(path, OwnerFile);
    }

    /// <summary>Opens a file for writing (<paramref name="mode"/>: CreateNew, Append…), creating it 0600.</summary>
    public static FileStream Open(string path, FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerFile;
        var stream = new FileStream(path, options);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(stream.SafeFileHandle, OwnerFile);
        return stream;
    }
}
