using Keygate.Kernel;
using StackExchange.Redis;
using System.Diagnostics;

namespace Keygate.Cluster;

/// <summary>
/// Keygate:Cluster:HotPath=Leases: the node's lease on the org state it caches, which lets it answer from memory.
/// The node registers itself in Redis ({prefix}e{epoch}:leases, a sorted set of node id → expiry on Redis's clock)
/// and renews every <see cref="RenewEvery"/>. Every change is published on one channel with a sequence number
/// (<see cref="SharedVersions.PublishAsync"/>); the node forgets the org it names, then acknowledges the number
/// ({prefix}e{epoch}:ack:{node}). The writer returns once every node holding a live lease has acknowledged it or
/// that lease has ended (<see cref="AwaitAcksAsync"/>). A node trusts its memory only while its own lease lasts by
/// its own clock, counted from before the renewal was sent (so it ends before Redis's does); after a lapse, or a
/// gap in the numbers it received, it forgets every org before it trusts its memory again. The why: docs/scale-out.md.
/// </summary>
public sealed class NodeLease : BackgroundService
{
    internal static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);
    /// <summary>The node stops trusting its lease this much before Redis ends it: covers clock-rate drift and the renewal's send.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan RenewEvery = TimeSpan.FromMilliseconds(600);

    // KEYS[1] = epoch key; ARGV = prefix, node, lease ms, the epoch the node trusts. Returns {-1} for another
    // epoch, else {1 if the node's previous lease was still live, the change sequence now}.
    private const string RenewScript = """
        local e = redis.call('GET', KEYS[1])
        if e ~= ARGV[4] then return {-1, 0} end
        local p = ARGV[1] .. 'e' .. e .. ':'
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local prev = tonumber(redis.call('ZSCORE', p .. 'leases', ARGV[2]) or '0')
        redis.call('ZREMRANGEBYSCORE', p .. 'leases', '-inf', now - 60000)
        redis.call('ZADD', p .. 'leases', now + tonumber(ARGV[3]), ARGV[2])
        return {prev > now and 1 or 0, tonumber(redis.call('GET', p .. 'seq') or '0')}
        """;

    // ARGV = the epoch's prefix, the sequence number. How many live leases have not acknowledged it yet.
    private const string PendingScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local pending = 0
        for _, n in ipairs(redis.call('ZRANGEBYSCORE', ARGV[1] .. 'leases', '(' .. now, '+inf')) do
          if tonumber(redis.call('GET', ARGV[1] .. 'ack:' .. n) or '-1') < tonumber(ARGV[2]) then pending = pending + 1 end
        end
        return pending
        """;

    private readonly RedisLink _redis;
    private readonly SharedVersions _versions;
    private readonly ILogger<NodeLease> _log;
    private readonly object _gate = new();
    private long _epoch = -1;      // the epoch the lease was taken in
    private long _liveUntil;       // a Stopwatch timestamp
    private long _processed = -1;  // every change numbered up to this one was applied (in _epoch)
    private long _seenAtRenewal = -1;
    private ChannelMessageQueue? _changes;

    public NodeLease(RedisLink redis, SharedVersions versions, ILogger<NodeLease> log)
    {
        (_redis, _versions, _log) = (redis, versions, log);
        Channel = RedisChannel.Literal(redis.Prefix + "changes");
        versions.Leases = this;
        redis.Lost += Drop;
    }

    public string NodeId { get; } = Guid.NewGuid().ToString("N");

    internal RedisChannel Channel { get; }

    /// <summary>A change another node made: forget the org if what is cached is older than this version.</summary>
    public event Action<long, long>? OrgChanged;

    /// <summary>The node may have missed changes: forget every org.</summary>
    public event Action? Lapsed;

    /// <summary>True while the node may answer from memory: Redis is trusted and the node's lease is live.</summary>
    public bool Live => Stopwatch.GetTimestamp() < Volatile.Read(ref _liveUntil) && _versions.Trusted
        && Volatile.Read(ref _epoch) == _versions.Epoch;

    /// <summary>Stopwatch timestamp at which the live lease ends here (0 if none): reservations are kept to it.</summary>
    public long LiveUntil => Live ? Volatile.Read(ref _liveUntil) : 0;

    /// <summary>The epoch the lease was taken in (its keys are under it).</summary>
    public long Epoch => Volatile.Read(ref _epoch);

    private void Drop() => Volatile.Write(ref _liveUntil, 0);

    internal static string EpochPrefix(string prefix, long epoch) => prefix + "e" + epoch + ":";

    /// <summary>Returns once every node with a live lease in <paramref name="epoch"/> has applied change <paramref name="seq"/>; false if that took too long.</summary>
    public async Task<bool> AwaitAcksAsync(long epoch, long seq)
    {
        var prefix = EpochPrefix(_redis.Prefix, epoch);
        var started = Stopwatch.GetTimestamp();
        var pause = 1;
        // Every lease ends within Lease of any moment; twice that means a node renews without applying changes.
        while (Stopwatch.GetElapsedTime(started) < Lease * 2)
        {
            if ((long)await _redis.Db.ScriptEvaluateAsync(PendingScript, null, [prefix, seq]) == 0) return true;
            await Task.Delay(pause);
            pause = Math.Min(pause * 2, 8);
        }
        return false;
    }

    /// <summary>"epoch:seq:org:version", published by <see cref="SharedVersions"/>.</summary>
    private void Apply(RedisValue message)
    {
        var parts = ((string)message!).Split(':');
        if (parts.Length != 4) return;
        var (epoch, seq, org, version) = (long.Parse(parts[0]), long.Parse(parts[1]), long.Parse(parts[2]), long.Parse(parts[3]));
        OrgChanged?.Invoke(org, version);
        long ack;
        lock (_gate)
        {
            if (epoch != _epoch) return;
            // Redis numbers and sends them in one script, so a skipped number was lost on the way (a reconnect).
            if (seq > _processed + 1) Lapsed?.Invoke();
            if (seq > _processed) _processed = seq;
            ack = _processed;
        }
        Ack(epoch, ack);
    }

    private void Ack(long epoch, long seq) =>
        _redis.Db.StringSet(EpochPrefix(_redis.Prefix, epoch) + "ack:" + NodeId, seq, flags: CommandFlags.FireAndForget);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_changes is null)
                {
                    // Once subscribed, the multiplexer subscribes again by itself after a reconnect.
                    _changes = await _redis.Connection.GetSubscriber().SubscribeAsync(Channel);
                    // One message after another, in the order Redis numbered them.
                    _changes.OnMessage(m => Apply(m.Message));
                }
                await RenewAsync();
            }
            catch (Exception e) when (RedisLink.IsFailure(e))
            {
                Drop();
                _log.LogDebug(e, "Could not renew the node's lease; answering the checked way until it is back");
            }
            try { await Task.Delay(RenewEvery, stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
        // A node that stops gives its lease back, so no change waits for it.
        try { await _redis.Db.SortedSetRemoveAsync(EpochPrefix(_redis.Prefix, Volatile.Read(ref _epoch)) + "leases", NodeId); }
        catch (Exception e) when (RedisLink.IsFailure(e)) { }
    }

    internal async Task RenewAsync()
    {
        if (!_versions.Trusted) { Drop(); return; }
        var wasLive = Live;
        var epoch = _versions.Epoch;
        var sent = Stopwatch.GetTimestamp();
        var r = (RedisResult[])(await _redis.Db.ScriptEvaluateAsync(RenewScript, [_redis.Key("epoch")],
            [_redis.Prefix, NodeId, (long)Lease.TotalMilliseconds, epoch]))!;
        var kept = (long)r[0];
        if (kept < 0) { Drop(); return; }
        var seq = (long)r[1];
        long ack;
        lock (_gate)
        {
            // A lapsed lease, a new epoch, or numbers announced a round ago and still not received: changes may
            // have gone by unseen. Forgetting every org makes each next read come from the database.
            // A node coming back to its lease (after a lost connection, say) cannot wait for what is in flight.
            var missed = kept == 0 || epoch != _epoch || _processed < _seenAtRenewal || (!wasLive && seq > _processed);
            if (missed)
            {
                Lapsed?.Invoke();
                _processed = Math.Max(epoch == _epoch ? _processed : -1, seq);
            }
            _epoch = epoch;
            _seenAtRenewal = seq;
            ack = _processed;
        }
        Ack(epoch, ack);
        Volatile.Write(ref _liveUntil, sent + (long)((Lease - Margin).TotalSeconds * Stopwatch.Frequency));
    }
}
