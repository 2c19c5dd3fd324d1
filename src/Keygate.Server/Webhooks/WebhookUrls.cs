namespace Keygate.Webhooks;

public static class WebhookUrls
{
    /// <summary>
    /// What is wrong with a receiver URL, or null. Events carry key changes and are signed, not encrypted, so they go
    /// over https only; plain http only where private networks are allowed too (tests, closed networks). Addresses
    /// are judged at delivery, after DNS resolution.
    /// </summary>
    public static string? UrlProblem(string? url, bool allowPrivateNetworks) =>
        string.IsNullOrEmpty(url) || url.Length > 2000 || url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            ? "A URL must be 1 to 2000 characters without spaces."
        : !Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Host.Length == 0
            || !(u.Scheme == Uri.UriSchemeHttps || (allowPrivateNetworks && u.Scheme == Uri.UriSchemeHttp))
            ? allowPrivateNetworks ? "A URL must be an absolute https (or http) URL." : "A URL must be an absolute https URL."
        : u.UserInfo.Length > 0
            ? "A URL must not carry credentials; receivers check the signature instead."
        : null;
}
