namespace Keygate.Cli;

/// <summary>The process exit codes. Scripts branch on these, so they never change meaning.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>Cancelled at a confirmation prompt, or an error that fits no other code.</summary>
    public const int Other = 1;
    /// <summary>Bad arguments, missing settings, a refused confirmation without a terminal, or a 400/415 on the input.</summary>
    public const int Usage = 2;
    /// <summary>Login refused (wrong username, password or key), no stored session, or the session ended (401).</summary>
    public const int Authentication = 3;
    /// <summary>403 ACCESS_DENIED or 404.</summary>
    public const int ForbiddenOrNotFound = 4;
    /// <summary>409, or the org's state refuses the request: API_KEY_DISABLED, SUBSCRIPTION_EXPIRED, API_SUBSCRIPTION_REQUIRED, ORG_SUSPENDED.</summary>
    public const int ConflictOrState = 5;
    /// <summary>429, after the one retry that honours Retry-After.</summary>
    public const int RateLimited = 6;
    /// <summary>5xx, or the server could not be reached.</summary>
    public const int ServerOrNetwork = 7;

    /// <summary>Maps an HTTP error answer (status and the body's stable code) to an exit code.</summary>
    public static int ForResponse(int status, string? code) => (status, code) switch
    {
        (401, _) => Authentication,
        (400, "INVALID_USERNAME_OR_PASSWORD" or "AUTHENTICATION_FAILED") => Authentication,
        (403, "API_KEY_DISABLED" or "SUBSCRIPTION_EXPIRED" or "API_SUBSCRIPTION_REQUIRED" or "ORG_SUSPENDED") => ConflictOrState,
        (403 or 404, _) => ForbiddenOrNotFound,
        (409, _) => ConflictOrState,
        (429, _) => RateLimited,
        ( >= 500, _) => ServerOrNetwork,
        (400 or 413 or 415, _) => Usage,
        _ => Other,
    };
}

/// <summary>A failure the CLI reports as one line on stderr (never with a secret in it) and an exit code.</summary>
public class CliException(int exitCode, string message, string? hint = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
    public string? Hint { get; } = hint;
}

/// <summary>An error answer of the server: its HTTP status and stable code, and the message it gave.</summary>
public sealed class ApiException(int status, string code, string message, string? hint = null)
    : CliException(ExitCodes.ForResponse(status, code), $"{status} {code}: {message}", hint)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string ServerMessage { get; } = message;
}
