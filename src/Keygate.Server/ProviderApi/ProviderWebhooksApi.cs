using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Secrets;
using Keygate.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace Keygate.ProviderApi;

/// <summary>Each URL must also pass <see cref="WebhookUrls.UrlProblem"/> (checked in the handler: its errors are per item).</summary>
public sealed record WebhooksRequest(
    [property: Required, MaxLength(WebhooksApi.MaxUrls, ErrorMessage = "At most 10 URLs.")] string[] Urls,
    [property: StringLength(256, MinimumLength = 16, ErrorMessage = "secret must be 16 to 256 characters without control characters."), NoControlCharacters] string? Secret = null);
public sealed record WebhooksView(string[] Urls, string Secret);

/// <summary>Where an organization's or a service provider's events are sent (contract B, webhooks).</summary>
public static class WebhooksApi
{
    public const int MaxUrls = 10;

    public static void MapProviderWebhooks(this RouteGroupBuilder api)
    {
        api.MapPut("/organizations/{orgId}/webhooks", SetForOrganization).WithName("SetOrganizationWebhooks")
            .WithSummary("Set where an organization's events are sent").RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND");
        api.MapPut("/serviceProviders/{id}/webhooks", SetForServiceProvider).WithName("SetServiceProviderWebhooks")
            .WithSummary("Set where a service provider's events are sent").RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND");
    }

    private static async Task<Results<Ok<WebhooksView>, ProblemHttpResult>> SetForOrganization(
        string orgId, [FromBody] WebhooksRequest req, ProviderCaller caller, OrgStateCache orgs, AppDbContext db, KeyVault vault, TimeProvider clock, IOptions<KeygateOptions> options, CancellationToken ct)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, ct) is not { } org) return ProviderApi.NotFound;
        return await SaveAsync(req, caller, db, vault, clock, options.Value, org.OrgId, null);
    }

    private static async Task<Results<Ok<WebhooksView>, ProblemHttpResult>> SetForServiceProvider(
        string id, [FromBody] WebhooksRequest req, ProviderCaller caller, AppDbContext db, KeyVault vault, TimeProvider clock, IOptions<KeygateOptions> options, CancellationToken ct)
    {
        // A service provider sets only its own; another's is the same 404 as a missing one.
        if (!long.TryParse(id, out var spId) || (!caller.IsOperator && caller.Actor.ServiceProviderId != spId)
            || !await db.ServiceProviders.AnyAsync(s => s.Id == spId, ct))
            return ProviderApi.NotFound;
        return await SaveAsync(req, caller, db, vault, clock, options.Value, null, spId);
    }

    private static async Task<Results<Ok<WebhooksView>, ProblemHttpResult>> SaveAsync(
        WebhooksRequest req, ProviderCaller caller, AppDbContext db, KeyVault vault, TimeProvider clock, KeygateOptions options, long? orgId, long? spId)
    {
        if (UrlProblems(req.Urls, options.Webhooks.AllowPrivateNetworks) is { } invalid) return ErrorResponses.Problem(invalid);
        var urls = req.Urls.Distinct(StringComparer.Ordinal).ToList();
        var secret = req.Secret ?? Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = clock.Now();
        var detail = $"{(spId is null ? "" : $"serviceProvider={spId} ")}urls={urls.Count} " +
            $"hosts={string.Join(',', urls.Select(u => new Uri(u).Host).Distinct())} secret={(req.Secret is null ? "generated" : "given")}";

        // Two first PUTs for the same owner race on the unique index; the loser runs again as an update.
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            try
            {
                await using var tx = await db.Database.BeginTransactionAsync();
                var endpoint = await (orgId is { } o
                    ? db.WebhookEndpoints.FirstOrDefaultAsync(x => x.OrganizationId == o)
                    : db.WebhookEndpoints.FirstOrDefaultAsync(x => x.ServiceProviderId == spId));
                if (endpoint is null)
                {
                    endpoint = new WebhookEndpoint { OrganizationId = orgId, ServiceProviderId = spId };
                    db.WebhookEndpoints.Add(endpoint);
                    await db.SaveChangesAsync(); // the secret is encrypted under the endpoint's id
                }
                endpoint.Urls = urls;
                endpoint.Secret = vault.EncryptWebhookSecret(secret, endpoint.Id);
                endpoint.UpdatedAtMs = now;
                db.AuditEvents.Add(AuditLog.Event(caller.Actor, orgId, "webhooks.update", null, AuditLog.Success, now, detail[..Math.Min(detail.Length, 2000)]));
                await db.SaveChangesAsync();
                await tx.CommitAsync();
                break;
            }
            catch (DbUpdateException ex) when (Db.IsUniqueViolation(ex) && attempt < 3) { }
        }
        return TypedResults.Ok(new WebhooksView([.. urls], secret));
    }

    /// <summary>Each URL against the delivery rules; the count and the secret are checked by the request's attributes.</summary>
    private static KeygateError? UrlProblems(string[] urls, bool allowPrivateNetworks)
    {
        var bad = new Dictionary<string, string[]>();
        for (var i = 0; i < urls.Length; i++)
            if (WebhookUrls.UrlProblem(urls[i], allowPrivateNetworks) is { } problem) bad[$"urls[{i}]"] = [problem];
        return bad.Count == 0 ? null : KeygateError.Invalid("The webhook settings are not valid.", bad);
    }

}
