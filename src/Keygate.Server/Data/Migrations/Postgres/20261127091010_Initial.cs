using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Keygate.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AuditEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrganizationId = table.Column<long>(type: "bigint", nullable: true),
                    ServiceProviderId = table.Column<long>(type: "bigint", nullable: true),
                    TimeMs = table.Column<long>(type: "bigint", nullable: false),
                    Actor = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Action = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    KeyId = table.Column<long>(type: "bigint", nullable: true),
                    Outcome = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ClientAddress = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditEvents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ClusterStates",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    Epoch = table.Column<long>(type: "bigint", nullable: false),
                    RedisRunId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ClusterStates", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    FriendlyName = table.Column<string>(type: "text", nullable: true),
                    Xml = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "LegacySessions",
                columns: table => new
                {
                    IdHash = table.Column<byte[]>(type: "bytea", nullable: false),
                    OrganizationId = table.Column<long>(type: "bigint", nullable: false),
                    AccountId = table.Column<long>(type: "bigint", nullable: false),
                    KeyId = table.Column<long>(type: "bigint", nullable: false),
                    KeyVersion = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAtMs = table.Column<long>(type: "bigint", nullable: false),
                    LastSeenAtMs = table.Column<long>(type: "bigint", nullable: false),
                    ClientAddress = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LegacySessions", x => x.IdHash);
                });

            migrationBuilder.CreateTable(
                name: "MeterStates",
                columns: table => new
                {
                    OrganizationId = table.Column<long>(type: "bigint", nullable: false),
                    ThresholdWindowStartMs = table.Column<long>(type: "bigint", nullable: false),
                    ThresholdCount = table.Column<long>(type: "bigint", nullable: false),
                    WarnedWindowStartMs = table.Column<long>(type: "bigint", nullable: false),
                    SandboxDayStartMs = table.Column<long>(type: "bigint", nullable: false),
                    SandboxDayCount = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MeterStates", x => x.OrganizationId);
                });

            migrationBuilder.CreateTable(
                name: "MeterWindows",
                columns: table => new
                {
                    OrganizationId = table.Column<long>(type: "bigint", nullable: false),
                    Name = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    WindowStartMs = table.Column<long>(type: "bigint", nullable: false),
                    Count = table.Column<long>(type: "bigint", nullable: false),
                    Unmerged = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MeterWindows", x => new { x.OrganizationId, x.Name });
                });

            migrationBuilder.CreateTable(
                name: "ServiceProviders",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    CreatedAtMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ServiceProviders", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "UsageBuckets",
                columns: table => new
                {
                    OrganizationId = table.Column<long>(type: "bigint", nullable: false),
                    HourStartMs = table.Column<long>(type: "bigint", nullable: false),
                    Light = table.Column<long>(type: "bigint", nullable: false),
                    Medium = table.Column<long>(type: "bigint", nullable: false),
                    Heavy = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageBuckets", x => new { x.OrganizationId, x.HourStartMs });
                });

            migrationBuilder.CreateTable(
                name: "WebhookEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    EventId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    OrganizationId = table.Column<long>(type: "bigint", nullable: false),
                    ServiceProviderId = table.Column<long>(type: "bigint", nullable: true),
                    OccurredAtMs = table.Column<long>(type: "bigint", nullable: false),
                    Body = table.Column<string>(type: "text", nullable: false),
                    FannedOut = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WebhookEvents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Organizations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ServiceProviderId = table.Column<long>(type: "bigint", nullable: true),
                    BaseUrl = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    SubscriptionEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    SubscriptionExpiresAt = table.Column<long>(type: "bigint", nullable: true),
                    ExpiryNotifiedAt = table.Column<long>(type: "bigint", nullable: true),
                    EndSessionsOnKeyChange = table.Column<bool>(type: "boolean", nullable: false),
                    Limits_CallThreshold = table.Column<long>(type: "bigint", nullable: false),
                    Limits_ThresholdWindowSeconds = table.Column<long>(type: "bigint", nullable: false),
                    Limits_WarnAtPercent = table.Column<int>(type: "integer", nullable: false),
                    Limits_LightPerSecond = table.Column<int>(type: "integer", nullable: false),
                    Limits_LightPerHour = table.Column<int>(type: "integer", nullable: false),
                    Limits_MediumPerSecond = table.Column<int>(type: "integer", nullable: false),
                    Limits_MediumPerHour = table.Column<int>(type: "integer", nullable: false),
                    Limits_HeavyPerMinute = table.Column<int>(type: "integer", nullable: false),
                    Limits_HeavyPerHour = table.Column<int>(type: "integer", nullable: false),
                    Limits_SandboxDailyQuota = table.Column<int>(type: "integer", nullable: false),
                    StateVersion = table.Column<long>(type: "bigint", nullable: false),
                    SessionsEndedVersion = table.Column<long>(type: "bigint", nullable: false),
                    StateChangedAtMs = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAtMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Organizations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Organizations_ServiceProviders_ServiceProviderId",
                        column: x => x.ServiceProviderId,
                        principalTable: "ServiceProviders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "ProviderTokens",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    ServiceProviderId = table.Column<long>(type: "bigint", nullable: true),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    CreatedAtMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ProviderTokens", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ProviderTokens_ServiceProviders_ServiceProviderId",
                        column: x => x.ServiceProviderId,
                        principalTable: "ServiceProviders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "WebhookDeliveries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    WebhookEventId = table.Column<long>(type: "bigint", nullable: false),
                    Target = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    EndpointId = table.Column<long>(type: "bigint", nullable: true),
                    Url = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    NextAttemptAtMs = table.Column<long>(type: "bigint", nullable: false),
                    DeliveredAtMs = table.Column<long>(type: "bigint", nullable: true),
                    GaveUp = table.Column<bool>(type: "boolean", nullable: false),
                    LastStatus = table.Column<int>(type: "integer", nullable: true),
                    LastError = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WebhookDeliveries", x => x.Id);
                    table.ForeignKey(
                        name: "FK_WebhookDeliveries_WebhookEvents_WebhookEventId",
                        column: x => x.WebhookEventId,
                        principalTable: "WebhookEvents",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Accounts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Kind = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Username = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    NormalizedUsername = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    PasswordHash = table.Column<string>(type: "text", nullable: false),
                    Role = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    OrganizationId = table.Column<long>(type: "bigint", nullable: true),
                    ServiceProviderId = table.Column<long>(type: "bigint", nullable: true),
                    CreatedAtMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Accounts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Accounts_Organizations_OrganizationId",
                        column: x => x.OrganizationId,
                        principalTable: "Organizations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Accounts_ServiceProviders_ServiceProviderId",
                        column: x => x.ServiceProviderId,
                        principalTable: "ServiceProviders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "ApiKeys",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrganizationId = table.Column<long>(type: "bigint", nullable: false),
                    KeyType = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Ciphertext = table.Column<byte[]>(type: "bytea", nullable: false),
                    LookupHash = table.Column<byte[]>(type: "bytea", nullable: true),
                    Version = table.Column<long>(type: "bigint", nullable: false),
                    SessionFloorVersion = table.Column<long>(type: "bigint", nullable: false),
                    DisabledReason = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    DisabledByKind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    DisabledByName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    DisabledNote = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    DisabledAtMs = table.Column<long>(type: "bigint", nullable: true),
                    LastModifiedAtMs = table.Column<long>(type: "bigint", nullable: false),
                    LastModifiedById = table.Column<long>(type: "bigint", nullable: false),
                    LastModifiedByName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    CreatedAtMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ApiKeys", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ApiKeys_Organizations_OrganizationId",
                        column: x => x.OrganizationId,
                        principalTable: "Organizations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "WebhookEndpoints",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrganizationId = table.Column<long>(type: "bigint", nullable: true),
                    ServiceProviderId = table.Column<long>(type: "bigint", nullable: true),
                    Urls = table.Column<List<string>>(type: "text[]", nullable: false),
                    Secret = table.Column<byte[]>(type: "bytea", nullable: false),
                    UpdatedAtMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WebhookEndpoints", x => x.Id);
                    table.ForeignKey(
                        name: "FK_WebhookEndpoints_Organizations_OrganizationId",
                        column: x => x.OrganizationId,
                        principalTable: "Organizations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_WebhookEndpoints_ServiceProviders_ServiceProviderId",
                        column: x => x.ServiceProviderId,
                        principalTable: "ServiceProviders",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.InsertData(
                table: "ClusterStates",
                columns: new[] { "Id", "Epoch", "RedisRunId" },
                values: new object[] { 1, 1L, null });

            migrationBuilder.CreateIndex(
                name: "IX_Accounts_NormalizedUsername",
                table: "Accounts",
                column: "NormalizedUsername",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Accounts_OrganizationId",
                table: "Accounts",
                column: "OrganizationId");

            migrationBuilder.CreateIndex(
                name: "IX_Accounts_ServiceProviderId",
                table: "Accounts",
                column: "ServiceProviderId");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_LookupHash",
                table: "ApiKeys",
                column: "LookupHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_OrganizationId_KeyType",
                table: "ApiKeys",
                columns: new[] { "OrganizationId", "KeyType" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_OrganizationId_Id",
                table: "AuditEvents",
                columns: new[] { "OrganizationId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_LegacySessions_KeyId",
                table: "LegacySessions",
                column: "KeyId");

            migrationBuilder.CreateIndex(
                name: "IX_LegacySessions_OrganizationId",
                table: "LegacySessions",
                column: "OrganizationId");

            migrationBuilder.CreateIndex(
                name: "IX_MeterWindows_OrganizationId",
                table: "MeterWindows",
                column: "OrganizationId",
                filter: "\"Unmerged\" <> 0");

            migrationBuilder.CreateIndex(
                name: "IX_Organizations_ServiceProviderId",
                table: "Organizations",
                column: "ServiceProviderId");

            migrationBuilder.CreateIndex(
                name: "IX_Organizations_StateChangedAtMs",
                table: "Organizations",
                column: "StateChangedAtMs");

            migrationBuilder.CreateIndex(
                name: "IX_Organizations_SubscriptionEnabled_SubscriptionExpiresAt",
                table: "Organizations",
                columns: new[] { "SubscriptionEnabled", "SubscriptionExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ProviderTokens_Hash",
                table: "ProviderTokens",
                column: "Hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ProviderTokens_ServiceProviderId",
                table: "ProviderTokens",
                column: "ServiceProviderId");

            migrationBuilder.CreateIndex(
                name: "IX_WebhookDeliveries_DeliveredAtMs_GaveUp_NextAttemptAtMs",
                table: "WebhookDeliveries",
                columns: new[] { "DeliveredAtMs", "GaveUp", "NextAttemptAtMs" });

            migrationBuilder.CreateIndex(
                name: "IX_WebhookDeliveries_WebhookEventId",
                table: "WebhookDeliveries",
                column: "WebhookEventId");

            migrationBuilder.CreateIndex(
                name: "IX_WebhookEndpoints_OrganizationId",
                table: "WebhookEndpoints",
                column: "OrganizationId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_WebhookEndpoints_ServiceProviderId",
                table: "WebhookEndpoints",
                column: "ServiceProviderId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_WebhookEvents_FannedOut",
                table: "WebhookEvents",
                column: "FannedOut");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Accounts");

            migrationBuilder.DropTable(
                name: "ApiKeys");

            migrationBuilder.DropTable(
                name: "AuditEvents");

            migrationBuilder.DropTable(
                name: "ClusterStates");

            migrationBuilder.DropTable(
                name: "DataProtectionKeys");

            migrationBuilder.DropTable(
                name: "LegacySessions");

            migrationBuilder.DropTable(
                name: "MeterStates");

            migrationBuilder.DropTable(
                name: "MeterWindows");

            migrationBuilder.DropTable(
                name: "ProviderTokens");

            migrationBuilder.DropTable(
                name: "UsageBuckets");

            migrationBuilder.DropTable(
                name: "WebhookDeliveries");

            migrationBuilder.DropTable(
                name: "WebhookEndpoints");

            migrationBuilder.DropTable(
                name: "WebhookEvents");

            migrationBuilder.DropTable(
                name: "Organizations");

            migrationBuilder.DropTable(
                name: "ServiceProviders");
        }
    }
}
