using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Keygate.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ProviderCredentialsAndSuspension : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ExpiresAtMs",
                table: "ProviderTokens",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LastUsedAtMs",
                table: "ProviderTokens",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Prefix",
                table: "ProviderTokens",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<long>(
                name: "RevokedAtMs",
                table: "ProviderTokens",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ExpiringNotified14At",
                table: "Organizations",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ExpiringNotified1At",
                table: "Organizations",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "PasswordExpiryDays",
                table: "Organizations",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<bool>(
                name: "Suspended",
                table: "Organizations",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "Disabled",
                table: "Accounts",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "PasswordMustChange",
                table: "Accounts",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ExpiresAtMs",
                table: "ProviderTokens");

            migrationBuilder.DropColumn(
                name: "LastUsedAtMs",
                table: "ProviderTokens");

            migrationBuilder.DropColumn(
                name: "Prefix",
                table: "ProviderTokens");

            migrationBuilder.DropColumn(
                name: "RevokedAtMs",
                table: "ProviderTokens");

            migrationBuilder.DropColumn(
                name: "ExpiringNotified14At",
                table: "Organizations");

            migrationBuilder.DropColumn(
                name: "ExpiringNotified1At",
                table: "Organizations");

            migrationBuilder.DropColumn(
                name: "PasswordExpiryDays",
                table: "Organizations");

            migrationBuilder.DropColumn(
                name: "Suspended",
                table: "Organizations");

            migrationBuilder.DropColumn(
                name: "Disabled",
                table: "Accounts");

            migrationBuilder.DropColumn(
                name: "PasswordMustChange",
                table: "Accounts");
        }
    }
}
