namespace Keygate.Kernel;

/// <summary>A refusal with its HTTP status and stable code. Surfaces render it their own way (legacy or ProblemDetails).</summary>
public sealed record KeygateError(int Status, string Code, string Message)
{
    public IDictionary<string, string[]>? FieldErrors { get; init; }
    /// <summary>For 429: seconds until the window that refused the call ends (at least 1).</summary>
    public int? RetryAfterSeconds { get; init; }

    public static readonly KeygateError NotFound = new(404, "RESOURCE_NOT_FOUND", "The resource does not exist.");
    public static readonly KeygateError AccessDenied = new(403, "ACCESS_DENIED", "You are not allowed to do this.");
    public static readonly KeygateError Unauthorized = new(401, "UNAUTHORIZED", "A valid bearer token is required.");
    public static readonly KeygateError SessionNotValid = new(401, "SESSION_NOT_VALID", "The session is not valid; log in again.");
    public static readonly KeygateError KeyDisabled = new(403, "API_KEY_DISABLED", "The API key is disabled; contact your service provider.");
    public static readonly KeygateError SubscriptionExpired = new(403, "SUBSCRIPTION_EXPIRED", "The API subscription has expired.");
    public static readonly KeygateError SubscriptionRequired = new(403, "API_SUBSCRIPTION_REQUIRED", "The organization has no API subscription.");
    public static readonly KeygateError SubscriptionExpiredConflict = new(409, "SUBSCRIPTION_EXPIRED", "The API subscription has expired; the key cannot be changed until it is renewed.");
    public static readonly KeygateError KeyDisabledConflict = new(409, "API_KEY_DISABLED", "The key is disabled; contact your service provider to enable it.");
    public static readonly KeygateError KeyAlreadyExists = new(409, "KEY_ALREADY_EXISTS", "A key of this type already exists; delete it before adding a new one.");
    public static readonly KeygateError KeyNotEditable = new(409, "KEY_NOT_EDITABLE", "Only the Cloud Service API key can be edited.");
    public static readonly KeygateError InvalidKeyValue = new(400, "INVALID_KEY_VALUE", "The key must be exactly 12 characters of A-Z, a-z and 0-9.");
    public static readonly KeygateError KeyValueUnchanged = new(409, "KEY_VALUE_UNCHANGED", "The new key must be different from the current key.");
    public static readonly KeygateError UsernameTaken = new(409, "USERNAME_TAKEN", "This username is already taken.");
    public static readonly KeygateError InvalidUsernameOrPassword = new(400, "INVALID_USERNAME_OR_PASSWORD", "Invalid username or password.");
    public static readonly KeygateError InvalidPassword = new(400, "INVALID_PASSWORD", "The password must be 12 to 128 characters and must not contain the login name.");
    public static readonly KeygateError PasswordExpired = new(403, "PASSWORD_EXPIRED", "The password has expired; change it in the portal.");
    public static readonly KeygateError LastSuperAdmin = new(409, "LAST_SUPER_ADMIN", "The organization must keep at least one enabled admin who can manage admins.");
    public static readonly KeygateError CannotChangeOwnAccount = new(409, "CANNOT_CHANGE_OWN_ACCOUNT", "You cannot delete or disable your own account.");
    public static readonly KeygateError RoleInUse = new(409, "ROLE_IN_USE", "The role is given to at least one admin.");
    public static readonly KeygateError UnsupportedMediaType = new(415, "UNSUPPORTED_MEDIA_TYPE", "The request body must be application/json.");
    public static readonly KeygateError PayloadTooLarge = new(413, "PAYLOAD_TOO_LARGE", "The request body is too large.");
    public static readonly KeygateError OrgSuspended = new(403, "ORG_SUSPENDED", "The organization is suspended; contact your service provider.");
    public static readonly KeygateError OrgNotSuspended = new(409, "ORG_NOT_SUSPENDED", "Only a suspended organization can be deleted; suspend it first.");
    public static readonly KeygateError LastOperatorToken = new(409, "LAST_OPERATOR_TOKEN", "This is the last operator token that works; create another one first.");
    public static readonly KeygateError TokenNotLive = new(409, "CONFLICT", "The token is revoked or expired; create a new one instead.");
    public static readonly KeygateError Conflict = new(409, "CONFLICT", "The resource was changed by another request; try again.");

    public static KeygateError Invalid(string message, IDictionary<string, string[]>? fields = null) =>
        new(400, "INVALID_INPUT_ARGUMENT", message) { FieldErrors = fields };

    public static KeygateError Invalid(string field, string message) =>
        Invalid(message, new Dictionary<string, string[]> { [field] = [message] });
}

/// <summary>Either a value or a refusal.</summary>
public readonly struct Result<T>
{
    public T? Value { get; }
    public KeygateError? Error { get; }

    private Result(T? value, KeygateError? error) => (Value, Error) = (value, error);

    public static implicit operator Result<T>(T value) => new(value, null);
    public static implicit operator Result<T>(KeygateError error) => new(default, error);
}
