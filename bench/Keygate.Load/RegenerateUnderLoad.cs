using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Keygate.Load;

/// <summary>
/// Regenerates the bench org's key <c>count</c> times, one after another, while <c>readers</c> tasks list the
/// key as fast as they can on the same session; then reports the regenerate latency and the reads that saw a
/// value older than the last regenerate that had returned before they were sent (contract A4: must be 0).
/// </summary>
public static class RegenerateUnderLoad
{
    public static async Task<int> RunAsync(Uri baseUrl, string dir, int count, int readers)
    {
        var session = (await File.ReadAllTextAsync(Path.Combine(dir, "session.txt"))).Trim();
        var keyId = (await File.ReadAllTextAsync(Path.Combine(dir, "key-id.txt"))).Trim();
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, MaxConnectionsPerServer = readers + 1 })
        {
            BaseAddress = baseUrl,
        };
        http.DefaultRequestHeaders.Add("Cookie", "JSESSIONID=" + session);

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
        var regenerates = new List<Regenerate>(count);
        var latenciesMs = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            using var r = await http.PostAsync($"/api/v1/apiKeys/{keyId}/regenerate", new StringContent("{}", Encoding.UTF8, "application/json"));
            var body = await r.Content.ReadAsStringAsync();
            var returned = Stopwatch.GetTimestamp();
            if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"regenerate {i + 1}: {(int)r.StatusCode} {body}");
            using var json = JsonDocument.Parse(body);
            regenerates.Add(new Regenerate(sent, returned, json.RootElement.GetProperty("keyValue").GetString()!));
            latenciesMs.Add(Stopwatch.GetElapsedTime(sent, returned).TotalMilliseconds);
        }
        Volatile.Write(ref stop, 1);
        var reads = (await Task.WhenAll(readerTasks)).SelectMany(x => x).ToList();

        var (inconsistent, unknown) = ReadConsistency.Check(initial, regenerates, reads);
        Console.WriteLine(FormattableString.Invariant(
            $"REGEN count={count} p50_ms={Stats.Percentile(latenciesMs, 50):F2} p99_ms={Stats.Percentile(latenciesMs, 99):F2} reads={reads.Count} read_errors={errors} inconsistent={inconsistent} unknown={unknown}"));
        return 0;
    }

    private static async Task<string?> ListKeyAsync(HttpClient http)
    {
        using var r = await http.GetAsync("/api/v1/apiKeys");
        if (!r.IsSuccessStatusCode) return null;
        using var json = JsonDocument.Parse(await r.Content.ReadAsStreamAsync());
        return json.RootElement[0].GetProperty("keyValue").GetString();
    }
}
