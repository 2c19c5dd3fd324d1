
namespace Keygate.Sandbox;

/// <summary>
/// The host logs "Request starting … ?api_token=…" and "Request finished …" with the full query string before
/// any middleware can intervene, and Kestrel's debug lines about a malformed request quote its request line.
/// Those lines are kept below the level any logger writes. The rules are added after every other
/// (configuration included), once without a provider and once for each provider that has rules of its own,
/// because a provider-specific rule would otherwise win.
/// </summary>
public static class TokenSafeRequestLogging
{
    private static readonly (string Category, LogLevel Minimum)[] Quiet =
    [
        ("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning),
        ("Microsoft.AspNetCore.Server.Kestrel.BadRequests", LogLevel.Information),
    ];

    public static IServiceCollection AddTokenSafeRequestLogging(this IServiceCollection services) =>
        services.PostConfigure<LoggerFilterOptions>(o =>
        {
            foreach (var provider in o.Rules.Select(r => r.ProviderName).Append(null).Distinct().ToList())
                foreach (var (category, minimum) in Quiet)
                    o.Rules.Add(new LoggerFilterRule(provider, category, minimum, null));
        });
}
