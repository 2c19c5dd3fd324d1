using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Keygate.Tests;

/// <summary>
/// What a first start leaves on disk and on stdout: secrets never in output that is not a terminal (it ends up in
/// log files, journald, docker logs), and the database, KEK and credentials readable by the service's user only.
/// </summary>
public sealed class PrivateFilesTests
{
    private const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerFolder = Owner | UnixFileMode.UserExecute;
    private const string SqliteOnly = "The data folder and database files checked here are a SQLite node's; the SQLite pass checks them.";
    private const string UnixOnly = "File modes are Unix ones.";

    [Fact]
    public async Task WithoutATerminalTheFirstStartSecretsGoToAPrivateFileAndTheDataIsPrivate()
    {
        Assert.SkipWhen(KeygateApp.OnPostgres, SqliteOnly);
        if (OperatingSystem.IsWindows()) { Assert.Skip(UnixOnly); return; } // the return tells the platform analyzer
        var root = Directory.CreateTempSubdirectory("keygate-first-start-").FullName;
        try
        {
            // The real server with --demo, stdout and stderr redirected to pipes (not a terminal), no KEK or token configured.
            var node = await NodeProcess.StartAsync(new Dictionary<string, string>(), arguments: ["--demo", "--contentRoot", root]);
            string output;
            await using (node)
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (!node.Output.Any(l => l.Contains("Keygate is listening on", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
                    await Task.Delay(100, TestContext.Current.CancellationToken);

                // While it runs (so SQLite's -wal and -shm exist): folders 0700, files 0600, whatever the umask.
                var data = Path.Combine(root, "data");
                Assert.Equal(OwnerFolder, File.GetUnixFileMode(data));
                Assert.Equal(OwnerFolder, File.GetUnixFileMode(Path.Combine(root, "secrets")));
                foreach (var name in new[] { "keygate.db", "keygate.db-wal", "keygate.db-shm" })
                    Assert.Equal(Owner, File.GetUnixFileMode(Path.Combine(data, name)));
                Assert.Equal(Owner, File.GetUnixFileMode(Path.Combine(root, "secrets", "kek.key")));

                // The stored token is the real one.
                var file = Path.Combine(root, "secrets", "first-start-credentials.txt");
                var token = Regex.Match(await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken), "kgp_[A-Za-z0-9]+").Value;
                using var http = new HttpClient { BaseAddress = node.Address };
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                Assert.Contains("Acme Corp", await http.GetStringAsync("provider/v1/organizations", TestContext.Current.CancellationToken));
                output = string.Join('\n', node.Output);
            }

            var credentials = Path.Combine(root, "secrets", "first-start-credentials.txt");
            Assert.Equal(Owner, File.GetUnixFileMode(credentials));
            var text = await File.ReadAllTextAsync(credentials, TestContext.Current.CancellationToken);
            var stored = Regex.Match(text, "Operator token.*: (kgp_[A-Za-z0-9]+)").Groups[1].Value;
            var password = Regex.Match(text, "Demo org admin: admin@acme.example / (Demo-[A-Za-z0-9]+)").Groups[1].Value;
            Assert.True(ProviderTokens.IsWellFormed(stored), text);
            Assert.NotEmpty(password);

            // The output names the file and still says where to go, but holds neither secret.
            Assert.Contains(credentials, output);
            Assert.Contains("Keygate is listening on", output);
            Assert.Contains("API reference:", output);
            Assert.DoesNotContain(stored, output);
            Assert.DoesNotContain(password, output);
            Assert.DoesNotContain("kgp_", output);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A database made by an older version (or copied in) with the umask's 0644 is made private at start.</summary>
    [Fact]
    public async Task AnExistingDatabaseReadableByOthersIsMadePrivateAtStart()
    {
        Assert.SkipWhen(KeygateApp.OnPostgres, SqliteOnly);
        if (OperatingSystem.IsWindows()) { Assert.Skip(UnixOnly); return; } // the return tells the platform analyzer
        var first = new KeygateApp();
        TestOrg org;
        await using (first) org = await first.CreateOrgAsync();
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(first.DatabasePath)!))
            File.SetUnixFileMode(file, Owner | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await using var second = KeygateApp.Reopen(first);
        using var session = await second.SessionAsync(org);
        var files = Directory.GetFiles(Path.GetDirectoryName(second.DatabasePath)!);
        Assert.Contains(second.DatabasePath, files);
        foreach (var file in files) Assert.Equal(Owner, File.GetUnixFileMode(file));
    }
}
