using Keygate.Data;
using Keygate.Kernel;

namespace Keygate.Cluster;

/// <summary>
/// What turns a node into one of many: with Keygate:Redis:Configuration set, counters and change
/// notification go through Redis, and sessions are looked up in the shared database. Without it, nothing
/// here is registered and the node is the single-node product.
/// </summary>
public static class ClusterSetup
{
    public static IServiceCollection AddKeygateCluster(this IServiceCollection services, KeygateOptions o)
    {
        if (!o.Redis.Enabled) return services;
        // Several nodes need one shared database; SQLite is one file on one machine.
        if (!DatabaseSetup.IsPostgres(o))
            throw new InvalidOperationException("Keygate:Redis is for several nodes, which need Keygate:Database:Provider=Postgres.");
        services.AddSingleton<RedisLink>();
        services.AddSingleton<SharedVersions>();
        services.AddHostedService(sp => sp.GetRequiredService<SharedVersions>());
        if (o.Cluster.HotPath != ClusterHotPath.Leases) return services;
        services.AddSingleton<NodeLease>();
        return services.AddHostedService(sp => sp.GetRequiredService<NodeLease>());
    }
}
