using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Keygate.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class PortalLogoutsAndThresholdResets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ThresholdResets",
                table: "MeterStates",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "PortalLogouts",
                columns: table => new
                {
                    SessionHash = table.Column<byte[]>(type: "bytea", nullable: false),
                    ExpiresAtMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PortalLogouts", x => x.SessionHash);
                });

            migrationBuilder.CreateIndex(
                name: "IX_PortalLogouts_ExpiresAtMs",
                table: "PortalLogouts",
                column: "ExpiresAtMs");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "PortalLogouts");

            migrationBuilder.DropColumn(
                name: "ThresholdResets",
                table: "MeterStates");
        }
    }
}
