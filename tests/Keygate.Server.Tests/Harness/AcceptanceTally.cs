using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Keygate.Tests;

/// <summary>
/// Every request sent to the node under test, judged once the run is over, when every truth is known.
/// A request counts only if no change returned while it was in flight (its stamps agree on the truth);
/// the others are "ambiguous". Judged against the truth in force when it was sent, and also the next one
/// when a change was in flight: a stale acceptance is a 2xx although the credential was invalid in every
/// truth the server may have had; a wrongful refusal is a non-2xx although it was valid in all of them.
/// </summary>
public sealed class AcceptanceTally
{
    private sealed record Seen(string Kind, long Before, long After, Func<OrgTruth, string?> Refusal, int Status, string? Code);

    private readonly ConcurrentQueue<Seen> _seen = new();
    private readonly ConcurrentDictionary<string, int> _errors = new();

    /// <summary>One answered request. <paramref name="refusal"/> says why its credential must fail in a truth (null: must work).</summary>
    public void Record(string kind, long before, long after, Func<OrgTruth, string?> refusal, HttpResponseMessage answer, string? code) =>
        _seen.Enqueue(new Seen(kind, before, after, refusal, (int)answer.StatusCode, code));

    /// <summary>A request that got no answer (connection refused, timeout).</summary>
    public void NoAnswer(string kind, Exception e) => _errors.AddOrUpdate($"{kind}: {e.GetType().Name}", 1, (_, n) => n + 1);

    public Verdict Judge(TruthLedger ledger)
    {
        var v = new Verdict { NoAnswer = _errors.Values.Sum() };
        foreach (var s in _seen)
        {
            v.Requests++;
            var accepted = s.Status is >= 200 and < 300;
            if (accepted) v.Accepted++; else v.Refused++;
            var kind = v.ByKind.TryGetValue(s.Kind, out var k) ? k : v.ByKind[s.Kind] = new int[5];
            kind[0]++;
            var seq = (int)(s.Before >> 1);
            var inFlight = (s.After & 1) == 1;
            var truths = new[] { ledger.Find(seq), inFlight ? ledger.Find(seq + 1) : null };
            if (s.After >> 1 != s.Before >> 1 || truths[0] is null || (inFlight && truths[1] is null))
            {
                v.Ambiguous++;
                continue;
            }
            v.Judged++;
            kind[1]++;
            var refusals = truths.OfType<OrgTruth>().Select(s.Refusal).ToList();
            if (refusals.All(r => r is null)) kind[4]++;
            if (accepted && refusals.All(r => r is not null))
            {
                v.Stale++;
                kind[2]++;
                Bump(v.StaleByReason, $"{s.Kind}, {refusals[0]}");
                if (v.StaleExamples.Count < 5)
                    v.StaleExamples.Add($"{s.Kind} answered {s.Status} after change {seq} ({truths[0]!.Change}): {refusals[0]}{(inFlight ? $", and change {seq + 1} was in flight" : "")}");
            }
            else if (!accepted && refusals.All(r => r is null))
            {
                v.WrongfulRefusals++;
                kind[3]++;
                Bump(v.WrongfulByKind, $"{s.Kind}: {s.Status} {s.Code}");
            }
        }
        foreach (var (what, n) in _errors) v.NoAnswerByKind[what] = n;
        return v;
    }

    private static void Bump(Dictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

    public sealed class Verdict
    {
        public int Requests, Accepted, Refused, NoAnswer, Ambiguous, Judged, Stale, WrongfulRefusals;
        public Dictionary<string, int> StaleByReason { get; } = [];
        public Dictionary<string, int> WrongfulByKind { get; } = [];
        public Dictionary<string, int> NoAnswerByKind { get; } = [];
        /// <summary>Per kind of request: sent, judged, stale acceptances, wrongful refusals, judged valid.</summary>
        public SortedDictionary<string, int[]> ByKind { get; } = new(StringComparer.Ordinal);
        public List<string> StaleExamples { get; } = [];

        public string Report()
        {
            var b = new StringBuilder();
            b.AppendLine(CultureInfo.InvariantCulture, $"requests to the hammered node(s): {Requests} (accepted {Accepted}, refused {Refused}), no answer {NoAnswer}");
            foreach (var (what, n) in NoAnswerByKind) b.AppendLine(CultureInfo.InvariantCulture, $"  {n} × no answer, {what}");
            foreach (var (what, n) in ByKind) b.AppendLine(CultureInfo.InvariantCulture, $"  {what}: {n[0]} sent, {n[1]} judged ({n[4]} valid), {n[2]} stale, {n[3]} wrongly refused");
            b.AppendLine(CultureInfo.InvariantCulture, $"ambiguous (a change returned while in flight): {Ambiguous}; judged: {Judged}");
            b.AppendLine(CultureInfo.InvariantCulture, $"STALE ACCEPTANCES: {Stale}");
            foreach (var (why, n) in StaleByReason.OrderByDescending(p => p.Value)) b.AppendLine(CultureInfo.InvariantCulture, $"  {n} × {why}");
            foreach (var e in StaleExamples) b.AppendLine("  e.g. " + e);
            b.AppendLine(CultureInfo.InvariantCulture, $"wrongful refusals (valid credential refused; for information): {WrongfulRefusals}");
            foreach (var (what, n) in WrongfulByKind.OrderByDescending(p => p.Value).Take(8)) b.AppendLine(CultureInfo.InvariantCulture, $"  {n} × {what}");
            return b.ToString();
        }
    }
}
