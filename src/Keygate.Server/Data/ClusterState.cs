namespace Keygate.Data;

/// <summary>
/// The one row (Id 1) the nodes of a cluster agree through the database about Redis: which epoch of
/// version keys is current, and which Redis process (its run id) holds it. See docs/scale-out.md.
/// </summary>
public sealed class ClusterState
{
    public int Id { get; set; }
    /// <summary>Bumped whenever Redis may have missed a change; version keys live under "e{Epoch}:".</summary>
    public long Epoch { get; set; }
    /// <summary>The Redis process the current epoch was set up in; a restarted Redis has another run id.</summary>
    public string? RedisRunId { get; set; }
}
