using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Keygate.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ClusterMeters : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
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

            migrationBuilder.CreateIndex(
                name: "IX_MeterWindows_OrganizationId",
                table: "MeterWindows",
                column: "OrganizationId",
                filter: "\"Unmerged\" <> 0");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "MeterWindows");
        }
    }
}
