using Keygate.Cluster;
using Keygate.Data;
using StackExchange.Redis;
using System.Diagnostics;

namespace Keygate.Metering;

/// <summary>
/// Keygate:Cluster:HotPath=Leases: calls are counted from blocks of allowance this node reserved in Redis, so an
/// accepted call needs no round trip. A block is taken in one script from every window the call counts in (its
/// weight's short and hour window and the threshold window) and is added to their counts at once, so the counts
/// in Redis are never below what the nodes accept: the sum accepted never passes a limit. A block is at most
/// 1/(2 × live nodes) of what is left (and <see cref="MaxBlock"/>), so blocks shrink towards the end; when less
/// than one call per node is left, calls are counted one by one as on the per-call path. A block never covers the
/// warning's call, which is counted one by one too (the warning goes out once, on whichever node).
/// <para>
/// Each block has a record in Redis ({prefix}m:{org}:r) and each window the total still held in blocks. A
/// call that finds a window full while blocks are still held elsewhere is not refused: its node asks the holders
/// (a message on {prefix}reclaim) to give back what they have not spent, and asks again; so a call is refused only
/// when no allowance is left anywhere. Unspent units go back when the block's short window ends, when the org has
/// been idle for <see cref="_idleAfter"/> (Keygate:Cluster:BlockIdleMilliseconds, 250 ms), when the org changes (its
/// limits may have), when asked, and when the node stops. A block is spent only while the node's lease is live; the block of a node whose lease ended
/// (killed, paused, partitioned) is settled by the next script that looks. What such a node spent of it, Redis knows
/// up to the block's budget (<see cref="BudgetOf"/>): a node reports each block's spent count (<see cref="ReportScript"/>, in the
/// background, every 100 ms and whenever a quarter of the budget is unreported) and spends no more than the budget past
/// what Redis confirmed. So a dead node's block comes back less what it reported and less the budget: the sum
/// accepted never passes N, and falls short of it by at most the budget per block a node held when it died.
/// </para>
/// </summary>
public sealed partial class RedisUsageCounter
{
    private const int MaxBlock = 2048;
    /// <summary>The least a block's budget is: how many of its calls a node may accept beyond the spent count Redis has from it (docs/scale-out.md).</summary>
    internal const int UnreportedBudget = 64;
    /// <summary>A larger block's budget is this share of it (1/4).</summary>
    private const int BudgetDivisor = 4;

    /// <summary>
    /// The budget of a block: <see cref="UnreportedBudget"/>, or a quarter of a larger block. A budget much smaller
    /// than a block made a busy node wait on reports: at 40,000 calls a second 64 calls last 1.6 ms, less than a
    /// report's round trip under load, and one call in seven went to Redis one by one. The Lua side computes the
    /// same from the record's size (<see cref="BlockHelpers"/>).
    /// </summary>
    internal static int BudgetOf(int size) => Math.Max(UnreportedBudget, size / BudgetDivisor);
    private readonly TimeSpan _idleAfter = TimeSpan.FromMilliseconds(Math.Max(50, options.Value.Cluster.BlockIdleMilliseconds));

    /// <summary>Lua helpers the reservation scripts share: the time, the total held in a window, and settling a record.</summary>
    private static readonly string BlockHelpers =
        $"local function budget(units) return math.max({UnreportedBudget}, math.floor(units / {BudgetDivisor})) end\n" + """
        local h, rec, leases = KEYS[1], KEYS[2], KEYS[3]
        local t0 = redis.call('TIME')
        local now = tonumber(t0[1]) * 1000 + math.floor(tonumber(t0[2]) / 1000)
        local function held(n, s)
          local o = redis.call('HMGET', h, n .. 'o', n .. 'o@')
          if tonumber(o[2]) == tonumber(s) then return tonumber(o[1]) or 0 end
          return 0
        end
        local function hold(n, s, d) redis.call('HSET', h, n .. 'o', math.max(0, held(n, s) + d), n .. 'o@', s) end
        -- A record is "fast,fastStart,slow,slowStart,thresholdStart,units,reported spent"; unspent units go back to
        -- the counts (a negative unspent: all of the record's units).
        local function settle(value, unspent)
          local r = {}
          for x in string.gmatch(value, '[^,]+') do r[#r + 1] = x end
          local units = tonumber(r[6])
          if unspent < 0 then unspent = units end
          for _, w in ipairs({{r[1], r[2]}, {r[3], r[4]}, {'t', r[5]}}) do
            hold(w[1], w[2], -units)
            if unspent > 0 and tonumber(redis.call('HGET', h, w[1] .. '@')) == tonumber(w[2]) then
              redis.call('HSET', h, w[1], math.max(0, (tonumber(redis.call('HGET', h, w[1])) or 0) - unspent))
            end
          end
        end
        -- Blocks of nodes whose lease ended: what the node reported spent, and the budget it may have spent
        -- since, count as spent; the rest comes back.
        local function purge()
          local all = redis.call('HGETALL', rec)
          for i = 1, #all, 2 do
            local node = string.match(all[i], '^[^:]+')
            if tonumber(redis.call('ZSCORE', leases, node) or '0') <= now then
              local r = {}
              for x in string.gmatch(all[i + 1], '[^,]+') do r[#r + 1] = x end
              settle(all[i + 1], math.max(0, tonumber(r[6]) - (tonumber(r[7]) or 0) - budget(tonumber(r[6]))))
              redis.call('HDEL', rec, all[i])
            end
          end
        end
        """;

    /// <summary>
    /// KEYS: the org's hash, its records, the epoch's leases. ARGV: the short and hour windows' fields, their starts,
    /// the threshold window's start, the two rate limits, the threshold, the warning count, the TTL, the record's
    /// field, the largest block. Returns {-1} (unseeded), {0} (less than a call per node left: count one by one), or
    /// {calls before the block, block size}.
    /// </summary>
    private static readonly string ReserveScript = BlockHelpers + "\n" + """
        -- Dead nodes' blocks first: the counts read below include what comes back of them.
        purge()
        local v = redis.call('HMGET', h, 'seed', ARGV[1], ARGV[1] .. '@', ARGV[2], ARGV[2] .. '@', 't', 't@')
        if not v[1] then return {-1} end
        local fast = tonumber(v[3]) == tonumber(ARGV[3]) and tonumber(v[2]) or 0
        local slow = tonumber(v[5]) == tonumber(ARGV[4]) and tonumber(v[4]) or 0
        local calls = tonumber(v[7]) == tonumber(ARGV[5]) and tonumber(v[6]) or 0
        local room = math.min(tonumber(ARGV[6]) - fast, tonumber(ARGV[7]) - slow, tonumber(ARGV[8]) - calls)
        local nodes = math.max(1, redis.call('ZCOUNT', leases, '(' .. now, '+inf'))
        local b = math.min(math.floor(room / (2 * nodes)), tonumber(ARGV[12]))
        if calls < tonumber(ARGV[9]) then b = math.min(b, tonumber(ARGV[9]) - 1 - calls) end
        if b < 1 then return {0} end
        redis.call('HSET', h, ARGV[1], fast + b, ARGV[1] .. '@', ARGV[3], ARGV[2], slow + b, ARGV[2] .. '@', ARGV[4], 't', calls + b, 't@', ARGV[5])
        hold(ARGV[1], ARGV[3], b)
        hold(ARGV[2], ARGV[4], b)
        hold('t', ARGV[5], b)
        redis.call('HSET', rec, ARGV[11], ARGV[1] .. ',' .. ARGV[3] .. ',' .. ARGV[2] .. ',' .. ARGV[4] .. ',' .. ARGV[5] .. ',' .. b .. ',0')
        redis.call('PEXPIRE', h, ARGV[10])
        redis.call('PEXPIRE', rec, ARGV[10])
        return {calls, b}
        """;

    /// <summary>
    /// KEYS: the org's hash, its records, the epoch's leases. ARGV: the record's field, the units not spent (-1: all of
    /// the record's, for a block whose reservation this node never heard back from).
    /// </summary>
    private static readonly string SettleScript = BlockHelpers + "\n" + """
        local value = redis.call('HGET', rec, ARGV[1])
        if not value then return 0 end
        settle(value, tonumber(ARGV[2]))
        redis.call('HDEL', rec, ARGV[1])
        return 1
        """;

    /// <summary>
    /// The per-call count beside blocks: <see cref="CountScript"/>'s rules, but a window that is full while blocks
    /// still hold some of it answers -5 (nothing counted) after asking the holders for it back. KEYS: the org's
    /// hash, its records, the epoch's leases, and optionally the org's version key. ARGV: as CountScript's, then the
    /// reclaim channel and the org id.
    /// </summary>
    private static readonly string CountBesideBlocksScript = BlockHelpers + "\nlocal vk = KEYS[4]\n" + CountRead + "\n" + """
        if fast >= tonumber(ARGV[6]) or slow >= tonumber(ARGV[7]) or calls > tonumber(ARGV[8]) then
          -- A dead node's block that comes back is counted with before the call is decided.
          purge()
          v, fast, slow, calls = counts()
          if (fast >= tonumber(ARGV[6]) and held(ARGV[1], ARGV[3]) > 0) or (slow >= tonumber(ARGV[7]) and held(ARGV[2], ARGV[4]) > 0)
             or (calls > tonumber(ARGV[8]) and held('t', ARGV[5]) > 0) then
            redis.call('PUBLISH', ARGV[12], ARGV[13])
            return -5
          end
        end
        """ + "\n" + CountDecide;

    /// <summary>KEYS: the org's records. ARGV: the record's field, the units spent of it. Raises the spent count the record holds.</summary>
    private const string ReportScript = """
        local value = redis.call('HGET', KEYS[1], ARGV[1])
        if not value then return 0 end
        local r = {}
        for x in string.gmatch(value, '[^,]+') do r[#r + 1] = x end
        if tonumber(ARGV[2]) <= (tonumber(r[7]) or 0) then return 1 end
        r[7] = ARGV[2]
        redis.call('HSET', KEYS[1], ARGV[1], table.concat(r, ',', 1, 7))
        return 1
        """;

    /// <summary>A block of allowance this node reserved for one weight, spent under the org meter's lock.</summary>
    private sealed class Block(string field, long fastStart, long slowStart, long thresholdStart, OrgLimits limits, long first, int size)
    {
        public readonly string Field = field;
        public readonly long FastStart = fastStart, SlowStart = slowStart, ThresholdStart = thresholdStart;
        /// <summary>The snapshot's limits it was reserved under: a newer snapshot (any change of the org) ends it.</summary>
        public readonly OrgLimits Limits = limits;
        public long Next = first;
        public readonly int Size = size;
        public readonly int Budget = BudgetOf(size);
        public int Left = size;
        /// <summary>The spent count Redis confirmed holding (<see cref="ReportScript"/>), and whether a report is on its way.</summary>
        public int Reported;
        public bool Reporting;
        public int Unreported => Size - Left - Reported;
        public long LastUsed = Stopwatch.GetTimestamp();
    }

    private long _blockIds;
    private long _givenBackOnRequest;

    /// <summary>Blocks this node gave back because another node's call asked for them (a window full while they held some).</summary>
    public long BlocksGivenBackOnRequest => Interlocked.Read(ref _givenBackOnRequest);

    /// <summary>Reservations whose answer was lost, still to be given back whole (for tests).</summary>
    internal int UnsettledCount => _unsettled.Count;
    private ChannelMessageQueue? _reclaims;
    private RedisChannel ReclaimChannel => RedisChannel.Literal(link.Prefix + "reclaim");

    private RedisKey[] BlockKeys(OrgMeter m, long epoch) =>
        [m.Keys[0], link.Key("m:" + m.OrgId + ":r"), NodeLease.EpochPrefix(link.Prefix, epoch) + "leases"];

    /// <summary>Spends one unit of this node's block, or reserves one; null when calls are counted one by one now.</summary>
    private async ValueTask<MeterDecision?> SpendAsync(OrgMeter m, MethodWeight weight, OrgLimits limits, long now, NodeLease leases)
    {
        var rate = Meter.RateOf(weight, limits);
        var fastStart = Meter.Window.StartOf(now, rate.FastLength);
        var slowStart = Meter.Window.StartOf(now, Meter.Hour);
        var thresholdLength = limits.ThresholdWindowSeconds * Meter.Second;
        var thresholdStart = Meter.Window.StartOf(now, thresholdLength);
        var slot = (int)weight;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            Block? ended = null;
            lock (m)
            {
                if (m.Blocks[slot] is { } b)
                {
                    if (b.Left > 0 && b.FastStart == fastStart && b.SlowStart == slowStart && b.ThresholdStart == thresholdStart
                        && ReferenceEquals(b.Limits, limits) && leases.Live)
                    {
                        // The budget spent past what Redis confirmed: this call is counted one by one until a report lands.
                        if (b.Unreported >= b.Budget) return null;
                        // Reported early, so the report lands long before the budget is used up.
                        if (b.Unreported >= b.Budget / 4 && !b.Reporting)
                        {
                            b.Reporting = true;
                            _ = ReportAsync(m, b);
                        }
                        return Spent(m, b, rate, fastStart, slowStart, thresholdStart, weight, now, limits);
                    }
                    m.Blocks[slot] = null;
                    ended = b;
                }
            }
            // Given back beside the call, not before it: a reservation that misses it near the end asks again.
            if (ended is not null) _ = SettleAsync(m, ended);
            if (attempt == 1 || !leases.Live) return null;
            // One reservation at a time per org: calls arriving together wait for it instead of each taking a block.
            await m.Reserving.WaitAsync();
            try
            {
                lock (m)
                {
                    if (m.Blocks[slot] is { Left: > 0 } fresh && fresh.FastStart == fastStart && ReferenceEquals(fresh.Limits, limits)) continue;
                }
                var field = leases.NodeId + ":" + Interlocked.Increment(ref _blockIds);
                (long Calls, int Size)? r;
                try
                {
                    r = await ReserveAsync(m, leases, [SlotFields[rate.FastSlot], SlotFields[rate.SlowSlot], fastStart, slowStart, thresholdStart,
                        rate.FastLimit, rate.SlowLimit, limits.CallThreshold, Meter.WarnAt(limits),
                        Math.Max(Meter.Day, thresholdLength) + Meter.Hour, field, MaxBlock]);
                }
                catch (Exception e) when (RedisLink.IsFailure(e))
                {
                    // The script may have run and its answer been lost (a timeout): the block would stay held in Redis
                    // under this node's live lease, unknown here, until the threshold window ends. It is given back
                    // whole once Redis answers; commands on the link run in order, so the settle follows the reserve.
                    _unsettled.Enqueue((m, field, -1));
                    throw;
                }
                if (r is not { } got) return null;
                Block? previous;
                lock (m) (previous, m.Blocks[slot]) = (m.Blocks[slot], new Block(field, fastStart, slowStart, thresholdStart, limits, got.Calls + 1, got.Size));
                if (previous is not null) await SettleAsync(m, previous);
            }
            finally { m.Reserving.Release(); }
        }
        return null;
    }

    private MeterDecision Spent(OrgMeter m, Block b, Meter.Rate rate, long fastStart, long slowStart, long thresholdStart, MethodWeight weight, long now, OrgLimits limits)
    {
        b.Left--;
        b.LastUsed = Stopwatch.GetTimestamp();
        var calls = b.Next++;
        m.Add(rate.FastSlot, fastStart, 1);
        m.Add(rate.SlowSlot, slowStart, 1);
        m.Add(Meter.ThresholdSlot, thresholdStart, 1);
        m.History.Add(now, weight);
        return Meter.Counted(calls, false, limits, default);
    }

    private async Task<(long Calls, int Size)?> ReserveAsync(OrgMeter m, NodeLease leases, RedisValue[] args)
    {
        var keys = BlockKeys(m, leases.Epoch);
        for (var seeded = false; ; seeded = true)
        {
            var r = (RedisResult[])(await link.Db.ScriptEvaluateAsync(ReserveScript, keys, args))!;
            Answered();
            var code = (long)r[0];
            if (code == Unseeded && !seeded) { await SeedAsync(m); continue; }
            if (code < 0) throw new RedisException($"The meter of org {m.OrgId} is not kept in Redis.");
            return r.Length < 2 ? null : (code, (int)r[1]);
        }
    }

    /// <summary>Gives the unspent part of a block back (best effort: a block never settled counts as spent once the lease ends).</summary>
    private async Task SettleAsync(OrgMeter m, Block b)
    {
        int unspent;
        lock (m) (unspent, b.Left) = (b.Left, 0);
        if (lease is null) return;
        try { await link.Db.ScriptEvaluateAsync(SettleScript, BlockKeys(m, lease.Epoch), [b.Field, unspent]); }
        catch (Exception e) when (RedisLink.IsFailure(e)) { _unsettled.Enqueue((m, b.Field, unspent)); }
    }

    /// <summary>Tells Redis how much of the block this node spent (<see cref="UnreportedBudget"/>); best effort, the budget covers a lost report.</summary>
    private async Task ReportAsync(OrgMeter m, Block b)
    {
        int spent;
        lock (m) spent = b.Size - b.Left;
        try
        {
            if (lease is not null)
                await link.Db.ScriptEvaluateAsync(ReportScript, [BlockKeys(m, lease.Epoch)[1]], [b.Field, spent]);
            lock (m) b.Reported = Math.Max(b.Reported, spent);
        }
        catch (Exception e) when (RedisLink.IsFailure(e)) { }
        finally { lock (m) b.Reporting = false; }
    }

    /// <summary>Blocks Redis could not take back (it was away): settled once it answers, before this node counts there again.</summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<(OrgMeter Meter, string Field, int Unspent)> _unsettled = new();

    private async Task SettleUnsettledAsync()
    {
        while (lease is not null && _unsettled.TryPeek(out var u))
        {
            await link.Db.ScriptEvaluateAsync(SettleScript, BlockKeys(u.Meter, lease.Epoch), [u.Field, u.Unspent]);
            _unsettled.TryDequeue(out _);
        }
    }

    /// <summary>Settles the org's blocks that match <paramref name="which"/> (all of them when null); how many there were.</summary>
    private async Task<int> SettleBlocksAsync(OrgMeter m, Func<Block, bool>? which = null)
    {
        var ended = new List<Block>();
        lock (m)
        {
            for (var i = 0; i < m.Blocks.Length; i++)
                if (m.Blocks[i] is { } b && (which is null || which(b))) { ended.Add(b); m.Blocks[i] = null; }
        }
        foreach (var b in ended) await SettleAsync(m, b);
        return ended.Count;
    }

    /// <summary>Every 100 ms: the blocks of idle orgs go back (all of them while the lease is not live); an org's blocks also when asked.</summary>
    private async Task SettleLoopAsync(CancellationToken ct)
    {
        if (lease is null) return;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (_reclaims is null && link.IsUp)
                {
                    _reclaims = await link.Connection.GetSubscriber().SubscribeAsync(ReclaimChannel);
                    _reclaims.OnMessage(async msg =>
                    {
                        if (long.TryParse((string?)msg.Message, out var orgId) && _meters.TryGetValue(orgId, out var asked))
                            Interlocked.Add(ref _givenBackOnRequest, await SettleBlocksAsync(asked));
                    });
                }
                if (link.IsUp && !FallbackActive) await SettleUnsettledAsync();
                // A block whose short window ended is settled by the org's next call, or here once the org is idle.
                var now = Stopwatch.GetTimestamp();
                foreach (var m in _meters.Values)
                {
                    await SettleBlocksAsync(m, b => Stopwatch.GetElapsedTime(b.LastUsed, now) > _idleAfter || !lease.Live);
                    await ReportBlocksAsync(m);
                }
            }
            catch (Exception e) when (RedisLink.IsFailure(e)) { }
            try { await Task.Delay(100, ct); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Reports the org's blocks that spent units Redis does not know of yet.</summary>
    private async Task ReportBlocksAsync(OrgMeter m)
    {
        var due = new List<Block>();
        lock (m)
        {
            foreach (var b in m.Blocks)
                if (b is { Unreported: > 0, Reporting: false }) { b.Reporting = true; due.Add(b); }
        }
        foreach (var b in due) await ReportAsync(m, b);
    }

    private async Task SettleAllAsync()
    {
        foreach (var m in _meters.Values) await SettleBlocksAsync(m);
    }
}
