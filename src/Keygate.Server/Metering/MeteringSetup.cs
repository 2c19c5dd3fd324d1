namespace Keygate;

public static class MeteringSetup
{
    /// <summary>The usage history and the node's counters.</summary>
    public static IServiceCollection AddKeygateMetering(this IServiceCollection services)
    {
        services.AddSingleton<UsageHistory>();
        return services.AddUsageCounter<MemoryUsageCounter>();
    }

    /// <summary>The node's one counter, as itself (tests flush it), as IUsageCounter, and as the service that saves it.</summary>
    public static IServiceCollection AddUsageCounter<T>(this IServiceCollection services) where T : BackgroundService, IUsageCounter
    {
        services.AddSingleton<T>();
        services.AddSingleton<IUsageCounter>(sp => sp.GetRequiredService<T>());
        return services.AddHostedService(sp => sp.GetRequiredService<T>());
    }
}
