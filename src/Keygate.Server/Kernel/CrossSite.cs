namespace Keygate.Kernel;

/// <summary>
/// Cross-site protection of every legacy route, the gateway's included (contract A2): one place, so the legacy
/// filter and the gateway refuse the same requests.
/// </summary>
public static class CrossSite
{
    public static readonly KeygateError Refused = new(403, "ACCESS_DENIED", "Cross-site requests are refused.");

    /// <summary>The refusal of a request a browser sent from another site, or null.</summary>
    public static KeygateError? RefusalOf(HttpRequest request) =>
        string.Equals(request.Headers["Sec-Fetch-Site"], "cross-site", StringComparison.OrdinalIgnoreCase) ? Refused : null;
}
