using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Keygate.Tests;

/// <summary>
/// nginx as a child process in front of Keygate nodes, running the deployment guide's own configuration
/// (docs/nginx-keygate.conf) or the forward-auth example of docs/gateway.md, with its marked lines pointed at loopback ports. Everything nginx writes (pid,
/// temporary files, error log) stays in a folder of its own.
/// </summary>
public sealed partial class NginxProcess : IAsyncDisposable
{
    public const string SkipReason = "nginx is not installed (Debian package nginx-light; or set KEYGATE_TEST_NGINX to its binary).";

    private readonly Process _process;
    private readonly string _folder;
    private readonly ConcurrentQueue<string> _output = new();
    public int Port { get; }
    public Uri Address => new($"http://127.0.0.1:{Port}/");

    private NginxProcess(Process process, string folder, int port) => (_process, _folder, Port) = (process, folder, port);

    /// <summary>KEYGATE_TEST_NGINX, else Debian's /usr/sbin/nginx, else nginx on the PATH; null when there is none.</summary>
    public static string? Binary { get; } = Find();

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("KEYGATE_TEST_NGINX") is { Length: > 0 } configured) return configured;
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Prepend("/usr/sbin");
        return dirs.Select(d => Path.Combine(d, "nginx")).FirstOrDefault(File.Exists);
    }

    /// <summary>The site configuration of the deployment guide, with these nodes and this port.</summary>
    public static string SiteConfig(int listenPort, IEnumerable<int> nodePorts) =>
        WithMarkedLines(File.ReadAllText(Path.Combine(NodeProcess.RepoRoot, "docs", "nginx-keygate.conf")), "docs/nginx-keygate.conf", new()
        {
            ["nodes"] = nodePorts.Select(p => $"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;").ToArray(),
            ["listen"] = [$"    listen 127.0.0.1:{listenPort};"],
            ["log"] = ["    access_log off;"],
        });

    /// <summary>The nginx block of docs/gateway.md's forward-auth section, with Keygate, the API and this port.</summary>
    public static string ForwardAuthConfig(int listenPort, int keygatePort, int apiPort)
    {
        var doc = File.ReadAllText(Path.Combine(NodeProcess.RepoRoot, "docs", "gateway.md"));
        var section = doc.IndexOf("## Forward-auth mode", StringComparison.Ordinal);
        var start = section < 0 ? -1 : doc.IndexOf("```nginx\n", section, StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException("docs/gateway.md lost its forward-auth section's ```nginx block.");
        start += "```nginx\n".Length;
        return WithMarkedLines(doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)], "docs/gateway.md (forward-auth)", new()
        {
            ["keygate"] = [$"    server 127.0.0.1:{keygatePort};"],
            ["api"] = [$"    server 127.0.0.1:{apiPort};"],
            ["listen"] = [$"    listen 127.0.0.1:{listenPort};"],
        });
    }

    /// <summary>The template with each group of lines marked "# name" replaced by that name's lines (once).</summary>
    private static string WithMarkedLines(string template, string source, Dictionary<string, string[]> marks)
    {
        var output = new List<string>();
        var replaced = new HashSet<string>();
        foreach (var line in template.Split('\n'))
        {
            var mark = Marked().Match(line) is { Success: true } m && marks.ContainsKey(m.Groups[1].Value) ? m.Groups[1].Value : null;
            if (mark is not null && replaced.Add(mark)) output.AddRange(marks[mark]);
            else if (mark is null) output.Add(line);
        }
        if (replaced.Count != marks.Count)
            throw new InvalidOperationException($"{source} lost a line marked {string.Join(" or ", marks.Keys.Select(k => $"'# {k}'"))}.");
        return string.Join('\n', output);
    }

    [GeneratedRegex(@"#\s*([a-z]+)\s*$")]
    private static partial Regex Marked();

    /// <summary>Starts nginx in front of the nodes and waits until it accepts connections (at most 10 s).</summary>
    public static Task<NginxProcess> StartAsync(IEnumerable<int> nodePorts) => StartAsync(port => SiteConfig(port, nodePorts));

    /// <summary>Starts nginx with the site configuration made for its port, and waits until it accepts connections (at most 10 s).</summary>
    public static async Task<NginxProcess> StartAsync(Func<int, string> siteConfig)
    {
        var binary = Binary ?? throw new InvalidOperationException(SkipReason);
        var folder = Directory.CreateTempSubdirectory("keygate-nginx-").FullName;
        // Run as root, nginx's workers drop to "nobody", which must be able to reach the temporary folders.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        var port = NodeProcess.FreePort();
        await File.WriteAllTextAsync(Path.Combine(folder, "keygate.conf"), siteConfig(port));
        await File.WriteAllTextAsync(Path.Combine(folder, "nginx.conf"), $$"""
            worker_processes 1;
            pid {{folder}}/nginx.pid;
            error_log {{folder}}/error.log warn;
            events { worker_connections 1024; }
            http {
                client_body_temp_path {{folder}}/client_body;
                proxy_temp_path {{folder}}/proxy;
                fastcgi_temp_path {{folder}}/fastcgi;
                uwsgi_temp_path {{folder}}/uwsgi;
                scgi_temp_path {{folder}}/scgi;
                include {{folder}}/keygate.conf;
            }
            """);
        var info = new ProcessStartInfo(binary)
        {
            ArgumentList = { "-p", folder, "-c", Path.Combine(folder, "nginx.conf"), "-e", Path.Combine(folder, "error.log"), "-g", "daemon off;" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var nginx = new NginxProcess(Process.Start(info)!, folder, port);
        nginx._process.OutputDataReceived += (_, e) => { if (e.Data is not null) nginx._output.Enqueue(e.Data); };
        nginx._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) nginx._output.Enqueue(e.Data); };
        nginx._process.BeginOutputReadLine();
        nginx._process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (nginx._process.HasExited)
                throw new InvalidOperationException($"nginx exited with {nginx._process.ExitCode}: {string.Join('\n', nginx._output)}\n{nginx.ErrorLog()}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return nginx;
            }
            catch (SocketException) { await Task.Delay(100); }
        }
        var log = nginx.ErrorLog();
        await nginx.DisposeAsync();
        throw new TimeoutException("nginx did not listen within 10 s: " + log);
    }

    public string ErrorLog()
    {
        var path = Path.Combine(_folder, "error.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
