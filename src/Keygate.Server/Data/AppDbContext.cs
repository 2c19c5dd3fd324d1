using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Data;

/// <summary>
/// The one DbContext. Each database provider has a thin subclass so that each keeps its own migration set
/// (EF Core "migrations with multiple providers").
/// </summary>
public abstract class AppDbContext : DbContext, IDataProtectionKeyContext
{
    protected AppDbContext(DbContextOptions options) : base(options)
    {
        // Inside a transaction of ours EF would wrap each SaveChanges in a savepoint, and it ignores a failure to release
        // it: a connection lost at that moment went unnoticed until the next statement met the broken connection as an
        // ObjectDisposedException on the NpgsqlTransaction. Nothing here goes on with a transaction after a failed save
        // (it is rolled back and the change answers or runs again), so the savepoints only cost two round trips.
        Database.AutoSavepointsEnabled = false;
    }

    /// <summary>The key ring behind portal cookies and antiforgery tokens, shared by every node (and kept across restarts).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<ServiceProvider> ServiceProviders => Set<ServiceProvider>();
    public DbSet<Organization> Organizations => Set<Organization>();
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<Role> Roles => Set<Role>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<LegacySession> LegacySessions => Set<LegacySession>();
    public DbSet<PortalLogout> PortalLogouts => Set<PortalLogout>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<ProviderToken> ProviderTokens => Set<ProviderToken>();
    public DbSet<MeterState> MeterStates => Set<MeterState>();
    public DbSet<UsageBucket> UsageBuckets => Set<UsageBucket>();
    public DbSet<MeterWindow> MeterWindows => Set<MeterWindow>();
    public DbSet<WebhookEvent> WebhookEvents => Set<WebhookEvent>();
    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<ClusterState> ClusterStates => Set<ClusterState>();
    public DbSet<SigningKey> SigningKeys => Set<SigningKey>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<ServiceProvider>(e =>
        {
            e.Property(x => x.Name).HasMaxLength(200);
        });

        b.Entity<Organization>(e =>
        {
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.BaseUrl).HasMaxLength(2000);
            e.Property(x => x.StateVersion).IsConcurrencyToken();
            e.HasIndex(x => x.ServiceProviderId);
            e.HasIndex(x => new { x.SubscriptionEnabled, x.SubscriptionExpiresAt });
            e.HasIndex(x => x.StateChangedAtMs);
            e.HasOne<ServiceProvider>().WithMany().HasForeignKey(x => x.ServiceProviderId).OnDelete(DeleteBehavior.Restrict);
            e.OwnsOne(x => x.Limits);
            e.HasMany(x => x.Keys).WithOne().HasForeignKey(k => k.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        });

        b.Entity<Account>(e =>
        {
            e.Property(x => x.Username).HasMaxLength(256);
            e.Property(x => x.NormalizedUsername).HasMaxLength(256);
            e.HasIndex(x => x.NormalizedUsername).IsUnique();
            e.HasIndex(x => x.OrganizationId);
            e.Property(x => x.Kind).HasConversion<string>().HasMaxLength(20);
            e.Property(x => x.DisplayName).HasMaxLength(256);
            e.Property(x => x.Email).HasMaxLength(256);
            e.Property(x => x.Comments).HasMaxLength(1000);
            e.HasOne<Organization>().WithMany(o => o.Admins).HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
            // A role in use cannot be deleted (ROLE_IN_USE); the database refuses too.
            e.HasOne(x => x.Role).WithMany().HasForeignKey(x => x.RoleId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<ServiceProvider>().WithMany().HasForeignKey(x => x.ServiceProviderId).OnDelete(DeleteBehavior.Restrict);
        });

        b.Entity<Role>(e =>
        {
            e.Property(x => x.Name).HasMaxLength(128);
            e.Property(x => x.RoleType).HasMaxLength(64);
            e.Property(x => x.FeaturePermissions).HasMaxLength(2000);
            e.HasIndex(x => new { x.OrganizationId, x.Name }).IsUnique();
            e.HasOne<Organization>().WithMany(o => o.Roles).HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        });

        b.Entity<ApiKey>(e =>
        {
            e.Property(x => x.KeyType).HasConversion<string>().HasMaxLength(32);
            e.Property(x => x.DisabledReason).HasConversion<string>().HasMaxLength(32);
            e.Property(x => x.DisabledByKind).HasConversion<string>().HasMaxLength(32);
            e.Property(x => x.DisabledByName).HasMaxLength(256);
            e.Property(x => x.DisabledNote).HasMaxLength(1000);
            e.Property(x => x.LastModifiedByName).HasMaxLength(256);
            // One key per type per org: the database is the last word when two adds race.
            e.HasIndex(x => new { x.OrganizationId, x.KeyType }).IsUnique();
            e.HasIndex(x => x.LookupHash).IsUnique();
        });

        b.Entity<LegacySession>(e =>
        {
            e.HasKey(x => x.IdHash);
            e.Property(x => x.ClientAddress).HasMaxLength(64);
            e.HasIndex(x => x.OrganizationId);
            e.HasIndex(x => x.KeyId);
        });

        b.Entity<PortalLogout>(e =>
        {
            e.HasKey(x => x.SessionHash);
            e.HasIndex(x => x.ExpiresAtMs);
        });

        b.Entity<AuditEvent>(e =>
        {
            e.Property(x => x.Actor).HasMaxLength(300);
            e.Property(x => x.Action).HasMaxLength(64);
            e.Property(x => x.Outcome).HasMaxLength(64);
            e.Property(x => x.ClientAddress).HasMaxLength(64);
            e.Property(x => x.Detail).HasMaxLength(2000);
            e.HasIndex(x => new { x.OrganizationId, x.Id });
        });

        b.Entity<MeterState>(e =>
        {
            e.HasKey(x => x.OrganizationId);
            e.Property(x => x.OrganizationId).ValueGeneratedNever();
            // A flush racing an enable's reset fails and is retried, rather than overwriting it (MemoryUsageCounter).
            e.Property(x => x.ThresholdResets).IsConcurrencyToken();
        });

        b.Entity<UsageBucket>(e => e.HasKey(x => new { x.OrganizationId, x.HourStartMs }));

        b.Entity<MeterWindow>(e =>
        {
            e.HasKey(x => new { x.OrganizationId, x.Name });
            e.Property(x => x.Name).HasMaxLength(8);
            // Nodes coming back to Redis look for the orgs with counts to merge; usually there are none.
            e.HasIndex(x => x.OrganizationId).HasFilter("\"Unmerged\" <> 0");
        });

        b.Entity<WebhookEvent>(e =>
        {
            e.Property(x => x.EventId).HasMaxLength(64);
            e.Property(x => x.Type).HasMaxLength(64);
            e.HasIndex(x => x.FannedOut);
        });

        b.Entity<WebhookEndpoint>(e =>
        {
            e.HasIndex(x => x.OrganizationId).IsUnique();
            e.HasIndex(x => x.ServiceProviderId).IsUnique();
            e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<ServiceProvider>().WithMany().HasForeignKey(x => x.ServiceProviderId).OnDelete(DeleteBehavior.Cascade);
        });

        b.Entity<WebhookDelivery>(e =>
        {
            e.Property(x => x.Target).HasConversion<string>().HasMaxLength(32);
            e.Property(x => x.Url).HasMaxLength(2000);
            e.Property(x => x.LastError).HasMaxLength(200);
            // The dispatcher asks for pending deliveries (not delivered, not given up) that are due.
            e.HasIndex(x => new { x.DeliveredAtMs, x.GaveUp, x.NextAttemptAtMs });
            e.HasIndex(x => x.WebhookEventId);
            e.HasOne<WebhookEvent>().WithMany().HasForeignKey(x => x.WebhookEventId).OnDelete(DeleteBehavior.Cascade);
        });

        b.Entity<ClusterState>(e =>
        {
            e.Property(x => x.Id).ValueGeneratedNever();
            e.Property(x => x.RedisRunId).HasMaxLength(64);
            e.HasData(new ClusterState { Id = 1, Epoch = 1 });
        });

        b.Entity<SigningKey>(e =>
        {
            e.HasIndex(x => x.Kid).IsUnique();
            e.Property(x => x.Kid).HasMaxLength(64);
        });

        b.Entity<ProviderToken>(e =>
        {
            e.HasIndex(x => x.Hash).IsUnique();
            e.Property(x => x.Name).HasMaxLength(200);
            e.Property(x => x.Prefix).HasMaxLength(16);
            e.HasOne<ServiceProvider>().WithMany().HasForeignKey(x => x.ServiceProviderId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

public sealed class SqliteDbContext(DbContextOptions<SqliteDbContext> options) : AppDbContext(options);

public sealed class PostgresDbContext(DbContextOptions<PostgresDbContext> options) : AppDbContext(options);
