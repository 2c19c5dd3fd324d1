namespace Keygate.Tests;

/// <summary>
/// What is true of the org once change <see cref="Seq"/> has returned (0: as provisioned). Every change that
/// ends sessions (regenerate, edit, delete; add starts a new key) moves <see cref="Generation"/>, so a session
/// belongs to the generation of the key value it logged in with.
/// </summary>
public sealed record OrgTruth(int Seq, string Change, long KeyId, string? Value, string? Previous, int Generation, bool Disabled, bool Expired)
{
    /// <summary>Why a login with <paramref name="value"/> must be refused in this truth; null when it must work.</summary>
    public string? LoginRefusal(string value) =>
        Value is null ? "key deleted" : Value != value ? "old key value" : State();

    /// <summary>Why a call on a session of <paramref name="generation"/> must be refused; null when it must work.</summary>
    public string? SessionRefusal(int generation) =>
        Value is null ? "session of a deleted key" : Generation != generation ? "session the change ended" : State();

    private string? State() => Disabled ? "key disabled" : Expired ? "subscription expired" : null;
}

/// <summary>
/// The truths in the order the changes returned, and a stamp that clients read before sending and after the
/// answer: 2 × (changes returned), plus 1 while the next change is in flight (a seqlock). A change that has
/// been sent may already hold on the server before its truth is published, so a request that saw an odd
/// stamp is judged against the truth before that change and the one after it.
/// </summary>
public sealed class TruthLedger
{
    private readonly List<OrgTruth> _truths;
    private readonly Dictionary<string, int> _generations = [];
    private long _stamp;

    public TruthLedger(OrgTruth initial)
    {
        _truths = [initial];
        _generations[initial.Value!] = initial.Generation;
    }

    public long Stamp => Interlocked.Read(ref _stamp);

    /// <summary>How many changes have returned.</summary>
    public int Changes => (int)(Stamp >> 1);

    public OrgTruth Current { get { lock (_truths) return _truths[^1]; } }

    /// <summary>The truth in force at a stamp read before sending (its truth is always published by then).</summary>
    public OrgTruth At(long stamp) { lock (_truths) return _truths[(int)(stamp >> 1)]; }

    public OrgTruth? Find(int seq) { lock (_truths) return seq < _truths.Count ? _truths[seq] : null; }

    /// <summary>The generation a session opened with this key value belongs to (values are random, never reused).</summary>
    public int GenerationOf(string value) { lock (_truths) return _generations.TryGetValue(value, out var g) ? g : -1; }

    /// <summary>Called just before a change is sent.</summary>
    public void Begin()
    {
        if ((Interlocked.Increment(ref _stamp) & 1) != 1) throw new InvalidOperationException("A change began while another was in flight.");
    }

    /// <summary>Called once the change has returned: the new truth first, then the stamp.</summary>
    public OrgTruth Publish(Func<OrgTruth, OrgTruth> change)
    {
        OrgTruth next;
        lock (_truths)
        {
            next = change(_truths[^1]) with { Seq = _truths.Count };
            _truths.Add(next);
            if (next.Value is not null) _generations.TryAdd(next.Value, next.Generation);
        }
        if ((Interlocked.Increment(ref _stamp) & 1) != 0) throw new InvalidOperationException("A change was published that had not begun.");
        return next;
    }
}
