using Keygate.Data;
using Keygate.Kernel;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Keygate.Secrets;

/// <summary>
/// Password hashing with the framework's PasswordHasher (PBKDF2-HMAC-SHA512, salted). Unknown usernames are
/// checked against a dummy hash so that they cost the same time as a wrong password.
/// </summary>
public sealed class Passwords
{
    private readonly PasswordHasher<Account> _hasher;
    private readonly Lazy<string> _dummy;

    public Passwords(IOptions<KeygateOptions> options)
    {
        _hasher = new PasswordHasher<Account>(Options.Create(new PasswordHasherOptions
        {
            IterationCount = options.Value.PasswordHashIterations,
        }));
        _dummy = new Lazy<string>(() => Hash(Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16))));
        var max = options.Value.MaxConcurrentHashes > 0 ? options.Value.MaxConcurrentHashes : Math.Max(1, Environment.ProcessorCount);
        _slots = new SemaphoreSlim(max, max);
        _waitMs = options.Value.HashQueueWaitMilliseconds;
    }

    private readonly SemaphoreSlim _slots;
    private readonly int _waitMs;

    public string Hash(string password) => _hasher.HashPassword(null!, password);

    public bool Verify(Account? account, string password)
    {
        var result = _hasher.VerifyHashedPassword(null!, account?.PasswordHash ?? _dummy.Value, password);
        return account is not null && result != PasswordVerificationResult.Failed;
    }

    /// <summary>
    /// Logins are slow on purpose. A flood of them must not take every core from the API calls, so at most
    /// <c>MaxConcurrentHashes</c> run at once; a login that cannot get a slot within a short wait is answered
    /// "busy" (503 with Retry-After) instead of queueing without bound.
    /// </summary>
    public async Task<bool?> TryVerifyAsync(Account? account, string password, CancellationToken ct)
    {
        if (!await _slots.WaitAsync(TimeSpan.FromMilliseconds(_waitMs), ct)) return null;
        try { return Verify(account, password); }
        finally { _slots.Release(); }
    }

    /// <summary>Contract A2: hashing capacity, or the attempts in flight for one username, are exhausted; no failure is counted.</summary>
    public static readonly KeygateError Busy = new(503, "SERVICE_BUSY", "Too many logins are in progress; try again shortly.") { RetryAfterSeconds = 1 };

    public static KeygateError? Validate(string? username, string? password)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(username) || username.Trim().Length is < 3 or > 256 || username.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            errors["username"] = ["username must be 3 to 256 characters without spaces."];
        if (password is null || password.Length is < 8 or > 256)
            errors["password"] = ["password must be 8 to 256 characters."];
        return errors.Count == 0 ? null : KeygateError.Invalid("The account is not valid.", errors);
    }
}
