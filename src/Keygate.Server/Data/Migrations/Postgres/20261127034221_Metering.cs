using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Keygate.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Metering : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
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

            migrationBuilder.CreateIndex(
                name: "IX_WebhookEvents_FannedOut",
                table: "WebhookEvents",
                column: "FannedOut");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "MeterStates");

            migrationBuilder.DropTable(
                name: "UsageBuckets");

            migrationBuilder.DropTable(
                name: "WebhookEvents");
        }
    }
}
