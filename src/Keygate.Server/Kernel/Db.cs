using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Kernel;

/// <summary>What a database exception means, for both providers: a unique violation, or a database that cannot be reached.</summary>
public static class Db
{
    public static bool IsUniqueViolation(DbUpdateException e) => e.InnerException switch
    {
        SqliteException s => s.SqliteErrorCode == 19, // SQLITE_CONSTRAINT
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>A serializable transaction lost to a concurrent one (PostgreSQL 40001, or a deadlock): run it again.</summary>
    public static bool IsSerializationFailure(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected }) return true;
        return false;
    }

    /// <summary>
    /// The database could not be reached or gave up: answer 503. The driver's exception may sit a few levels down
    /// (a connection lost during SaveChanges is an InvalidOperationException "transient failure" around a
    /// DbUpdateException around the NpgsqlException), so the whole chain is searched.
    /// </summary>
    public static bool IsUnavailable(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is DbException or TimeoutException or System.Net.Sockets.SocketException) return true;
        return false;
    }
}
