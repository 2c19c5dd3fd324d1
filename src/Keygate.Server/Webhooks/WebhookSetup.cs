using Keygate.Kernel;
using Microsoft.Extensions.Options;

namespace Keygate.Webhooks;

public static class WebhookSetup
{
    /// <summary>The delivery client, the dispatcher and the expiry watcher; the operator's receivers are checked at start.</summary>
    public static IServiceCollection AddKeygateWebhooks(this IServiceCollection services)
    {
        services.AddOptions<KeygateOptions>()
            .Validate(o => o.Webhooks.OperatorUrls.All(u => WebhookUrls.UrlProblem(u, o.Webhooks.AllowPrivateNetworks) is null),
                "Keygate:Webhooks:OperatorUrls must be absolute https URLs (http only with Keygate:Webhooks:AllowPrivateNetworks).")
            .Validate(o => o.Webhooks.OperatorUrls.Length == 0 || o.Webhooks.OperatorSecret is { Length: >= 16 },
                "Keygate:Webhooks:OperatorSecret must be at least 16 characters when OperatorUrls are set.")
            .Validate(o => o.Webhooks.RetentionDays >= 1, "Keygate:Webhooks:RetentionDays must be at least 1.")
            .ValidateOnStart();
        services.AddHttpClient(WebhookHttp.ClientName, c =>
            {
                c.Timeout = TimeSpan.FromSeconds(10);
                c.DefaultRequestHeaders.UserAgent.ParseAdd("Keygate-Webhooks/1");
            })
            .ConfigurePrimaryHttpMessageHandler(sp =>
                WebhookHttp.CreateHandler(sp.GetRequiredService<IOptions<KeygateOptions>>().Value.Webhooks.AllowPrivateNetworks))
            // The client's own log lines would hold receiver URLs, which may carry the receiver's tokens.
            .RemoveAllLoggers();
        services.AddHostedService<WebhookDispatcher>();
        services.AddHostedService<SubscriptionExpiryWatcher>();
        return services;
    }
}
