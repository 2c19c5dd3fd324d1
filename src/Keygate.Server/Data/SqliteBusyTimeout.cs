using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Keygate.Data;

/// <summary>
/// Lets SQLite itself wait for the write lock. Without a busy handler SQLite answers SQLITE_BUSY at once and
/// Microsoft.Data.Sqlite retries after sleeping 150 ms, so a key change that met the 2-second metering flush
/// took 150 ms more; SQLite's own handler retries within a millisecond or two of the lock coming free.
/// The overall bound stays the connection's DefaultTimeout (Microsoft.Data.Sqlite goes on retrying past this).
/// </summary>
public sealed class SqliteBusyTimeout(int milliseconds) : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle }) SQLitePCL.raw.sqlite3_busy_timeout(handle, milliseconds);
    }
}
