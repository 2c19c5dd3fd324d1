namespace Keygate.Baseline;

public sealed record ModifiedBy(long Id, string Name);

/// <summary>The key object of contract A3, so the baseline serializes as much JSON as Keygate does.</summary>
public sealed record KeyObject(long Id, string KeyValue, string KeyType, string[] Permissions, bool Enabled, string Status,
    string? DisabledReason, long LastModifiedTime, ModifiedBy LastModifiedBy, string PartnerUrl);

public sealed record LoginBody(string AuthType, bool ObfuscateApiKey, long PasswordExpiryTime, long PasswordExpiryDays);

public static class FixedBodies
{
    public static readonly KeyObject[] Keys =
    [
        new(1, "AbCdEfGh1234", "CLOUD_SERVICE", ["ALL"], true, "ENABLED", null, 1_764_200_000,
            new ModifiedBy(1, "bench@bench.example"), ""),
    ];

    public static readonly LoginBody Login = new("ADMIN_LOGIN", true, -1, -1);

    public const string Cookie = "JSESSIONID=0123456789abcdef0123456789abcdef; Path=/; HttpOnly; SameSite=Strict";
}
