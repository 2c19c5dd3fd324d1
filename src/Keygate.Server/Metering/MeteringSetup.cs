using Keygate.Kernel;

namespace Keygate.Metering;

public static class MeteringSetup
{
    /// <summary>
    /// The usage history and the node's counters: in memory on a single node; in Redis, with the database as the
    /// fallback while Redis is away, on a node of a cluster (Keygate:Redis).
    /// </summary>
    public static IServiceCollection AddKeygateMetering(this IServiceCollection services, KeygateOptions o)
    {
        services.AddSingleton<UsageHistory>();
        services.AddSingleton<GatewayCounts>();
        if (!o.Redis.Enabled) return services.AddUsageCounter<MemoryUsageCounter>();
        services.AddSingleton<DatabaseUsageCounter>();
        return services.AddUsageCounter<RedisUsageCounter>();
    }

    /// <summary>The node's one counter, as itself (tests flush it), as IUsageCounter, and as the service that saves it.</summary>
    public static IServiceCollection AddUsageCounter<T>(this IServiceCollection services) where T : BackgroundService, IUsageCounter
    {
        services.AddSingleton<T>();
        services.AddSingleton<IUsageCounter>(sp => sp.GetRequiredService<T>());
        return services.AddHostedService(sp => sp.GetRequiredService<T>());
    }
}
