namespace Keygate.Load;

/// <summary>A GET as a reader saw it: when it was sent (Stopwatch ticks) and the key value it returned.</summary>
public readonly record struct Read(long SentAt, string Value);

/// <summary>One regenerate: when it was sent and returned (Stopwatch ticks) and the value it set.</summary>
public readonly record struct Regenerate(long SentAt, long ReturnedAt, string Value);

public static class ReadConsistency
{
    /// <summary>
    /// Counts the reads that broke "a request sent after a change returned never sees the old value": a read
    /// sent after regenerate i returned must show value i or a later one. Regenerates ran one after another, so
    /// their return times are increasing. A value that no regenerate produced counts as inconsistent too.
    /// </summary>
    public static (int Inconsistent, int Unknown) Check(string initial, IReadOnlyList<Regenerate> regenerates, IEnumerable<Read> reads)
    {
        var order = new Dictionary<string, int> { [initial] = 0 };
        for (var i = 0; i < regenerates.Count; i++) order[regenerates[i].Value] = i + 1;
        var returned = regenerates.Select(r => r.ReturnedAt).ToArray();
        int inconsistent = 0, unknown = 0;
        foreach (var read in reads)
        {
            var mustSee = ReturnedBefore(returned, read.SentAt);
            if (!order.TryGetValue(read.Value, out var seen)) { unknown++; inconsistent++; }
            else if (seen < mustSee) inconsistent++;
        }
        return (inconsistent, unknown);
    }

    /// <summary>How many regenerates had returned strictly before <paramref name="time"/>.</summary>
    private static int ReturnedBefore(long[] returned, long time)
    {
        int lo = 0, hi = returned.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (returned[mid] < time) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
