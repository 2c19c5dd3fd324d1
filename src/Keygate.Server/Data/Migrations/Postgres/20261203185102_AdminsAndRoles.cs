using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Keygate.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AdminsAndRoles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Comments",
                table: "Accounts",
                type: "character varying(1000)",
                maxLength: 1000,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "DisplayName",
                table: "Accounts",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "Email",
                table: "Accounts",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<long>(
                name: "PasswordChangedAtMs",
                table: "Accounts",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "RoleId",
                table: "Accounts",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Roles",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrganizationId = table.Column<long>(type: "bigint", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Rank = table.Column<int>(type: "integer", nullable: false),
                    RoleType = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    IsAuditor = table.Column<bool>(type: "boolean", nullable: false),
                    IsNonEditable = table.Column<bool>(type: "boolean", nullable: false),
                    FeaturePermissions = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Roles", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Roles_Organizations_OrganizationId",
                        column: x => x.OrganizationId,
                        principalTable: "Organizations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Accounts_RoleId",
                table: "Accounts",
                column: "RoleId");

            migrationBuilder.CreateIndex(
                name: "IX_Roles_OrganizationId_Name",
                table: "Roles",
                columns: new[] { "OrganizationId", "Name" },
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_Accounts_Roles_RoleId",
                table: "Accounts",
                column: "RoleId",
                principalTable: "Roles",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            // Every org gets the two built-in roles, and every admin the one their old role named, so nobody's rights change
            // (the provider API's SUPER_ADMIN / READ_ONLY name these two). Passwords count as set when the account was made.
            migrationBuilder.Sql("""
                INSERT INTO "Roles" ("OrganizationId", "Name", "Rank", "RoleType", "IsAuditor", "IsNonEditable", "FeaturePermissions")
                SELECT "Id", 'Super Admin', 7, 'EDGE_CONNECTOR_ADMIN', FALSE, TRUE, '{"APIKEY_MANAGEMENT":"READ_WRITE","EDGE_CONNECTOR_ADMIN_MANAGEMENT":"READ_WRITE","EDGE_CONNECTOR_CLOUD_PROVISIONING":"READ_WRITE","EDGE_CONNECTOR_LOCATION_MANAGEMENT":"READ_WRITE","EDGE_CONNECTOR_TEMPLATE":"READ_WRITE","EDGE_CONNECTOR_DASHBOARD":"READ_WRITE","EDGE_CONNECTOR_POLICY_CONFIGURATION":"READ_WRITE","EDGE_CONNECTOR_FORWARDING":"READ_WRITE","EDGE_CONNECTOR_NSS_CONFIGURATION":"READ_WRITE"}' FROM "Organizations";
                INSERT INTO "Roles" ("OrganizationId", "Name", "Rank", "RoleType", "IsAuditor", "IsNonEditable", "FeaturePermissions")
                SELECT "Id", 'Read Only Admin', 7, 'EDGE_CONNECTOR_ADMIN', FALSE, TRUE, '{"APIKEY_MANAGEMENT":"READ_ONLY","EDGE_CONNECTOR_ADMIN_MANAGEMENT":"READ_ONLY","EDGE_CONNECTOR_CLOUD_PROVISIONING":"READ_ONLY","EDGE_CONNECTOR_LOCATION_MANAGEMENT":"READ_ONLY","EDGE_CONNECTOR_TEMPLATE":"READ_ONLY","EDGE_CONNECTOR_DASHBOARD":"READ_ONLY","EDGE_CONNECTOR_POLICY_CONFIGURATION":"READ_ONLY","EDGE_CONNECTOR_FORWARDING":"READ_ONLY","EDGE_CONNECTOR_NSS_CONFIGURATION":"READ_ONLY"}' FROM "Organizations";
                UPDATE "Accounts" SET "RoleId" = (SELECT r."Id" FROM "Roles" r WHERE r."OrganizationId" = "Accounts"."OrganizationId"
                    AND r."Name" = CASE WHEN "Accounts"."Role" = 'SUPER_ADMIN' THEN 'Super Admin' ELSE 'Read Only Admin' END)
                WHERE "Kind" = 'OrgAdmin';
                UPDATE "Accounts" SET "PasswordChangedAtMs" = "CreatedAtMs";
                """);

            migrationBuilder.DropColumn(
                name: "Role",
                table: "Accounts");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Accounts_Roles_RoleId",
                table: "Accounts");

            migrationBuilder.DropTable(
                name: "Roles");

            migrationBuilder.DropIndex(
                name: "IX_Accounts_RoleId",
                table: "Accounts");

            migrationBuilder.DropColumn(
                name: "Comments",
                table: "Accounts");

            migrationBuilder.DropColumn(
                name: "DisplayName",
                table: "Accounts");

            migrationBuilder.DropColumn(
                name: "Email",
                table: "Accounts");

            migrationBuilder.DropColumn(
                name: "PasswordChangedAtMs",
                table: "Accounts");

            migrationBuilder.DropColumn(
                name: "RoleId",
                table: "Accounts");

            migrationBuilder.AddColumn<string>(
                name: "Role",
                table: "Accounts",
                type: "character varying(20)",
                maxLength: 20,
                nullable: false,
                defaultValue: "");
        }
    }
}
