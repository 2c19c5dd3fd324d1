using System.ComponentModel;
using System.Text.Json.Serialization;
using Keygate.Data;
using Keygate.Kernel;

namespace Keygate.LegacyApi;

// The legacy routes parse their bodies by hand (the public clients depend on the exact answers), so these records
// only document the wire shape in the OpenAPI document (.Accepts<T>); nothing deserialises them.

/// <summary>POST /api/v1/auth (contract A2).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)] // the hand parser ignores fields it does not know
public sealed record LegacyLoginRequest(
    [property: Description("The obfuscated Cloud Service key for this timestamp (contract A1).")] string ApiKey,
    string Username,
    string Password,
    [property: Description("The client's time in epoch milliseconds, as a string or a number; within two hours of the server's.")] string Timestamp);

/// <summary>POST /api/v1/apiKeys: the body may be left out (a Cloud Service key).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)] // the hand parser ignores fields it does not know
public sealed record LegacyAddKeyRequest(KeyType? KeyType = null);

/// <summary>PUT /api/v1/apiKeys/{id}.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)] // the hand parser ignores fields it does not know
public sealed record LegacyEditKeyRequest([property: Description("Exactly 12 characters of A-Z, a-z and 0-9.")] string KeyValue);

/// <summary>The legacy routes' shared OpenAPI metadata.</summary>
public static class LegacyApiDocs
{
    /// <summary>A route that reads a JSON body (or none): the JSON-only filter and the body reader's refusals.</summary>
    public static RouteHandlerBuilder LegacyBodyDocs(this RouteHandlerBuilder b) =>
        b.RefusesLegacy(413, "PAYLOAD_TOO_LARGE").RefusesLegacy(415, "UNSUPPORTED_MEDIA_TYPE");

    public static RouteHandlerBuilder LegacyLoginDocs(this RouteHandlerBuilder b) =>
        b.Public().DocumentsBody<LegacyLoginRequest, RouteHandlerBuilder>("application/json")
            .RefusesLegacy(400, "INVALID_INPUT_ARGUMENT", "INVALID_USERNAME_OR_PASSWORD", "AUTHENTICATION_FAILED")
            .RefusesLegacy(403, "API_SUBSCRIPTION_REQUIRED", "SUBSCRIPTION_EXPIRED", "API_KEY_DISABLED", "ORG_SUSPENDED", "ACCESS_DENIED", "PASSWORD_EXPIRED")
            .RefusesLegacy(429, "TOO_MANY_FAILED_LOGINS").RefusesLegacy(503, "SERVICE_UNAVAILABLE").LegacyBodyDocs();

    /// <summary>Logout works with or without a session; only a cross-site request is refused.</summary>
    public static RouteHandlerBuilder LegacyLogoutDocs(this RouteHandlerBuilder b) =>
        b.SecuredBy(ApiDocs.Session, optional: true).RefusesLegacy(403, "ACCESS_DENIED").RefusesLegacy(415, "UNSUPPORTED_MEDIA_TYPE");
}
