using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Keygate.Load;

/// <summary>
/// Regenerates the bench org's key <c>warmup</c> + <c>count</c> times, one after another, while <c>readers</c>
/// tasks list the key as fast as they can on the same session; then reports the latency of the last
/// <c>count</c> regenerates (the first <c>warmup</c> ones are reported apart: they run while the JIT is still
/// compiling the change path) and the reads that saw a value older than the last regenerate that had returned
/// before they were sent (contract A4: must be 0), over all of them.
/// </summary>
public static class RegenerateUnderLoad
{
    public static async Task<int> RunAsync(Uri baseUrl, string dir, int count, int readers, int warmup)
    {
        var session = (await File.ReadAllTextAsync(Path.Combine(dir, "session.txt"))).Trim();
        var keyId = (await File.ReadAllTextAsync(Path.Combine(dir, "key-id.txt"))).Trim();
        using var http = Client(baseUrl, session, readers);
        // The writer has its own connection, and its own thread that blocks on it: queued behind the readers'
        // continuations on this process's thread pool, its latency would measure the load generator, not Keygate.
        using var writerHttp = Client(baseUrl, session, 1);

        var initial = await ListKeyAsync(http) ?? throw new InvalidOperationException("The session cannot list its key.");
        var stop = 0;
        var errors = 0;
        var readerTasks = Enumerable.Range(0, readers).Select(_ => Task.Run(async () =>
        {
            var seen = new List<Read>();
            while (Volatile.Read(ref stop) == 0)
            {
                var sent = Stopwatch.GetTimestamp();
                if (await ListKeyAsync(http) is { } value) seen.Add(new Read(sent, value));
                else Interlocked.Increment(ref errors);
            }
            return seen;
        })).ToArray();

        await Task.Delay(200); // the readers are under way before the first change
        var regenerates = new List<Regenerate>(warmup + count);
        var latenciesMs = new List<double>(warmup + count);
        Exception? failed = null;
        var writer = new Thread(() =>
        {
            try
            {
                for (var i = 0; i < warmup + count; i++)
                {
                    var sent = Stopwatch.GetTimestamp();
                    var (status, body) = RegenerateOnce(writerHttp, keyId);
                    var returned = Stopwatch.GetTimestamp();
                    if (status is < 200 or > 299) throw new InvalidOperationException($"regenerate {i + 1}: {status} {body}");
                    using var json = JsonDocument.Parse(body);
                    regenerates.Add(new Regenerate(sent, returned, json.RootElement.GetProperty("keyValue").GetString()!));
                    latenciesMs.Add(Stopwatch.GetElapsedTime(sent, returned).TotalMilliseconds);
                }
            }
            catch (Exception e) { failed = e; }
        }) { IsBackground = true, Name = "regenerate writer" };
        writer.Start();
        await Task.Run(writer.Join);
        Volatile.Write(ref stop, 1);
        var reads = (await Task.WhenAll(readerTasks)).SelectMany(x => x).ToList();
        if (failed is not null) throw failed;

        var (inconsistent, unknown) = ReadConsistency.Check(initial, regenerates, reads);
        var cold = latenciesMs.Take(warmup).ToList();
        var measured = latenciesMs.Skip(warmup).ToList();
        Console.WriteLine(FormattableString.Invariant(
            $"REGEN count={count} p50_ms={Stats.Percentile(measured, 50):F2} p99_ms={Stats.Percentile(measured, 99):F2} max_ms={measured.Max():F2} warmup={warmup} warmup_p50_ms={Percentile(cold, 50)} warmup_p99_ms={Percentile(cold, 99)} reads={reads.Count} read_errors={errors} inconsistent={inconsistent} unknown={unknown}"));
        return 0;
    }

    private static string Percentile(List<double> values, double p) =>
        values.Count == 0 ? "-" : Stats.Percentile(values, p).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);

    private static HttpClient Client(Uri baseUrl, string session, int connections)
    {
        var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, MaxConnectionsPerServer = connections + 1 }) { BaseAddress = baseUrl };
        http.DefaultRequestHeaders.Add("Cookie", "JSESSIONID=" + session);
        return http;
    }

    private static (int Status, string Body) RegenerateOnce(HttpClient http, string keyId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/apiKeys/{keyId}/regenerate")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        using var response = http.Send(request);
        using var reader = new StreamReader(response.Content.ReadAsStream());
        return ((int)response.StatusCode, reader.ReadToEnd());
    }

    private static async Task<string?> ListKeyAsync(HttpClient http)
    {
        using var r = await http.GetAsync("/api/v1/apiKeys");
        if (!r.IsSuccessStatusCode) return null;
        using var json = JsonDocument.Parse(await r.Content.ReadAsStreamAsync());
        return json.RootElement[0].GetProperty("keyValue").GetString();
    }
}
