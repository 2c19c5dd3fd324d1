namespace Keygate;

public static class MeteringSetup
{
    /// <summary>
    /// The usage history and, on a single node, the memory counters. A node of a cluster (Keygate:Redis) gets
    /// the Redis counters from <see cref="ClusterSetup.AddKeygateCluster"/> instead.
    /// </summary>
    public static IServiceCollection AddKeygateMetering(this IServiceCollection services, KeygateOptions o)
    {
        services.AddSingleton<UsageHistory>();
        if (!o.Redis.Enabled) services.AddUsageCounter<MemoryUsageCounter>();
        return services;
    }

    /// <summary>The node's one counter, as itself (tests flush it), as IUsageCounter, and as the service that saves it.</summary>
    public static IServiceCollection AddUsageCounter<T>(this IServiceCollection services) where T : BackgroundService, IUsageCounter
    {
        services.AddSingleton<T>();
        services.AddSingleton<IUsageCounter>(sp => sp.GetRequiredService<T>());
        return services.AddHostedService(sp => sp.GetRequiredService<T>());
    }
}
