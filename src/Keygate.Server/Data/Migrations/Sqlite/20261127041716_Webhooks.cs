using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Keygate.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Webhooks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ExpiryNotifiedAt",
                table: "Organizations",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "WebhookDeliveries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    WebhookEventId = table.Column<long>(type: "INTEGER", nullable: false),
                    Target = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    EndpointId = table.Column<long>(type: "INTEGER", nullable: true),
                    Url = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    NextAttemptAtMs = table.Column<long>(type: "INTEGER", nullable: false),
                    DeliveredAtMs = table.Column<long>(type: "INTEGER", nullable: true),
                    GaveUp = table.Column<bool>(type: "INTEGER", nullable: false),
                    LastStatus = table.Column<int>(type: "INTEGER", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true)
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
                name: "WebhookEndpoints",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    OrganizationId = table.Column<long>(type: "INTEGER", nullable: true),
                    ServiceProviderId = table.Column<long>(type: "INTEGER", nullable: true),
                    Urls = table.Column<string>(type: "TEXT", nullable: false),
                    Secret = table.Column<byte[]>(type: "BLOB", nullable: false),
                    UpdatedAtMs = table.Column<long>(type: "INTEGER", nullable: false)
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

            migrationBuilder.CreateIndex(
                name: "IX_Organizations_SubscriptionEnabled_SubscriptionExpiresAt",
                table: "Organizations",
                columns: new[] { "SubscriptionEnabled", "SubscriptionExpiresAt" });

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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "WebhookDeliveries");

            migrationBuilder.DropTable(
                name: "WebhookEndpoints");

            migrationBuilder.DropIndex(
                name: "IX_Organizations_SubscriptionEnabled_SubscriptionExpiresAt",
                table: "Organizations");

            migrationBuilder.DropColumn(
                name: "ExpiryNotifiedAt",
                table: "Organizations");
        }
    }
}
