namespace Keygate.Webhooks;

public static class WebhookUrls
{
    /// <summary>What is wrong with a receiver URL, or null. Addresses are judged at delivery, after DNS resolution.</summary>
    public static string? UrlProblem(string? url) =>
        string.IsNullOrEmpty(url) || url.Length > 2000 || url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            ? "A URL must be 1 to 2000 characters without spaces."
        : !Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("https" or "http") || u.Host.Length == 0
            ? "A URL must be an absolute https (or http) URL."
        : u.UserInfo.Length > 0
            ? "A URL must not carry credentials; receivers check the signature instead."
        : null;
}
