using Microsoft.Data.Sqlite;

namespace Keygate.Seed;

/// <summary>
/// One org as the server would have it after create + subscription + limits + login: the org (active
/// subscription, raised limits), its built-in "Super Admin" role and an admin with it, its enabled Cloud Service key (id = version-bound AAD) and a
/// live legacy session. Row ids equal the org number so that every foreign key is known up front.
/// </summary>
public sealed class SeedRows : IDisposable
{
    private const int Huge = 1_000_000_000;
    private readonly SqliteCommand _org, _role, _account, _key, _session;

    /// <summary>The built-in Super Admin's permissions, as the AdminsAndRoles migration writes them.</summary>
    private const string SuperAdminPermissions = """{"APIKEY_MANAGEMENT":"READ_WRITE","EDGE_CONNECTOR_ADMIN_MANAGEMENT":"READ_WRITE","EDGE_CONNECTOR_CLOUD_PROVISIONING":"READ_WRITE","EDGE_CONNECTOR_LOCATION_MANAGEMENT":"READ_WRITE","EDGE_CONNECTOR_TEMPLATE":"READ_WRITE","EDGE_CONNECTOR_DASHBOARD":"READ_WRITE","EDGE_CONNECTOR_POLICY_CONFIGURATION":"READ_WRITE","EDGE_CONNECTOR_FORWARDING":"READ_WRITE","EDGE_CONNECTOR_NSS_CONFIGURATION":"READ_WRITE"}""";

    public SeedRows(SqliteConnection c)
    {
        _org = Command(c, """
            INSERT INTO Organizations (Id, Name, ServiceProviderId, BaseUrl, SubscriptionEnabled, SubscriptionExpiresAt,
              EndSessionsOnKeyChange, Limits_CallThreshold, Limits_ThresholdWindowSeconds, Limits_WarnAtPercent,
              Limits_LightPerSecond, Limits_LightPerHour, Limits_MediumPerSecond, Limits_MediumPerHour,
              Limits_HeavyPerMinute, Limits_HeavyPerHour, Limits_SandboxDailyQuota, StateVersion, SessionsEndedVersion, StateChangedAtMs, CreatedAtMs,
              Suspended, PasswordExpiryDays)
            VALUES ($id, 'Bench org ' || $id, NULL, 'http://127.0.0.1/api/v1', 1, NULL, 0, 1000000000000, 86400, 100,
              $huge, $huge, $huge, $huge, 1, 4, 100, 1, 0, $now, $now, 0, 0)
            """, "$id", "$huge", "$now");
        _role = Command(c, """
            INSERT INTO Roles (Id, OrganizationId, Name, Rank, RoleType, IsAuditor, IsNonEditable, FeaturePermissions)
            VALUES ($id, $id, 'Super Admin', 7, 'EDGE_CONNECTOR_ADMIN', 0, 1, $perms)
            """, "$id", "$perms");
        _account = Command(c, """
            INSERT INTO Accounts (Id, Kind, Username, NormalizedUsername, PasswordHash, RoleId, OrganizationId, ServiceProviderId, CreatedAtMs,
              Disabled, DisplayName, Email, Comments, PasswordChangedAtMs, PasswordMustChange)
            VALUES ($id, 'OrgAdmin', $user, upper($user), $hash, $id, $id, NULL, $now, 0, '', '', '', $now, 0)
            """, "$id", "$user", "$hash", "$now");
        _key = Command(c, """
            INSERT INTO ApiKeys (Id, OrganizationId, KeyType, Ciphertext, LookupHash, Version, SessionFloorVersion,
              LastModifiedAtMs, LastModifiedById, LastModifiedByName, CreatedAtMs)
            VALUES ($id, $id, 'CLOUD_SERVICE', $cipher, NULL, 1, 1, $now, $id, $user, $now)
            """, "$id", "$cipher", "$now", "$user");
        _session = Command(c, """
            INSERT INTO LegacySessions (IdHash, OrganizationId, AccountId, KeyId, KeyVersion, CreatedAtMs, LastSeenAtMs, ClientAddress)
            VALUES ($hash, $id, $id, $id, 1, $now, $now, '127.0.0.1')
            """, "$hash", "$id", "$now");
    }

    private static SqliteCommand Command(SqliteConnection c, string sql, params string[] parameters)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var p in parameters) cmd.Parameters.Add(new SqliteParameter { ParameterName = p });
        return cmd;
    }

    public void Enlist(SqliteTransaction tx)
    {
        foreach (var cmd in new[] { _org, _role, _account, _key, _session }) cmd.Transaction = tx;
    }

    public void Insert(long id, string username, string passwordHash, byte[] ciphertext, byte[] sessionHash, long now)
    {
        Run(_org, ("$id", id), ("$huge", Huge), ("$now", now));
        Run(_role, ("$id", id), ("$perms", SuperAdminPermissions));
        Run(_account, ("$id", id), ("$user", username), ("$hash", passwordHash), ("$now", now));
        Run(_key, ("$id", id), ("$cipher", ciphertext), ("$now", now), ("$user", username));
        Run(_session, ("$hash", sessionHash), ("$id", id), ("$now", now));
    }

    private static void Run(SqliteCommand cmd, params (string Name, object Value)[] values)
    {
        foreach (var (name, value) in values) cmd.Parameters[name].Value = value;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var cmd in new[] { _org, _role, _account, _key, _session }) cmd.Dispose();
    }
}
