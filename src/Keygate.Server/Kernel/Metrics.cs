using System.Collections.Concurrent;
using System.Text;

namespace Keygate.Kernel;

/// <summary>
/// Process-wide counters in Prometheus text format. Labels are outcomes and actions only, never an
/// organization, a user or anything secret (contract D).
/// </summary>
public sealed class KeygateMetrics
{
    private readonly ConcurrentDictionary<(string Name, string Label), long> _counters = new();

    /// <summary>Adds one to a counter; <paramref name="labelName"/>/<paramref name="labelValue"/> must be bounded sets (codes, actions).</summary>
    public void Count(string name, string labelName = "", string labelValue = "") =>
        _counters.AddOrUpdate((name, labelName.Length == 0 ? "" : $"{labelName}=\"{labelValue}\""), 1, (_, v) => v + 1);

    public string Render(long liveSessions, long cachedOrgs, long auditDropped)
    {
        var sb = new StringBuilder();
        foreach (var group in _counters.GroupBy(c => c.Key.Name).OrderBy(g => g.Key))
        {
            sb.Append("# TYPE keygate_").Append(group.Key).Append(" counter\n");
            foreach (var ((name, label), value) in group.OrderBy(c => c.Key.Label))
                sb.Append("keygate_").Append(name).Append(label.Length == 0 ? "" : "{" + label + "}").Append(' ').Append(value).Append('\n');
        }
        sb.Append("# TYPE keygate_sessions_live gauge\nkeygate_sessions_live ").Append(liveSessions).Append('\n');
        sb.Append("# TYPE keygate_orgs_cached gauge\nkeygate_orgs_cached ").Append(cachedOrgs).Append('\n');
        sb.Append("# TYPE keygate_audit_dropped_total counter\nkeygate_audit_dropped_total ").Append(auditDropped).Append('\n');
        return sb.ToString();
    }
}
