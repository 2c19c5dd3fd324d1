using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.Secrets;
using Keygate.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace Keygate.ProviderApi;

public sealed record WebhooksRequest(string[] Urls, string? Secret = null);
public sealed record WebhooksView(string[] Urls, string Secret);

/// <summary>Where an organization's or a service provider's events are sent (contract B, webhooks).</summary>
public static class WebhooksApi
{
    public const int MaxUrls = 10;

    public static void MapProviderWebhooks(this RouteGroupBuilder api)
    {
        api.MapPut("/organizations/{orgId}/webhooks", SetForOrganization);
        api.MapPut("/serviceProviders/{id}/webhooks", SetForServiceProvider);
    }

    private static async Task<Results<Ok<WebhooksView>, ProblemHttpResult>> SetForOrganization(
        string orgId, HttpContext http, ProviderCaller caller, OrgStateCache orgs, AppDbContext db, KeyVault vault, TimeProvider clock)
    {
        if (await ProviderApi.FindOrgAsync(orgId, caller, orgs, http.RequestAborted) is not { } org) return ProviderApi.NotFound;
        return await SaveAsync(http, caller, db, vault, clock, org.OrgId, null);
    }

    private static async Task<Results<Ok<WebhooksView>, ProblemHttpResult>> SetForServiceProvider(
        string id, HttpContext http, ProviderCaller caller, AppDbContext db, KeyVault vault, TimeProvider clock)
    {
        // A service provider sets only its own; another's is the same 404 as a missing one.
        if (!long.TryParse(id, out var spId) || (!caller.IsOperator && caller.Actor.ServiceProviderId != spId)
            || !await db.ServiceProviders.AnyAsync(s => s.Id == spId, http.RequestAborted))
            return ProviderApi.NotFound;
        return await SaveAsync(http, caller, db, vault, clock, null, spId);
    }

    private static async Task<Results<Ok<WebhooksView>, ProblemHttpResult>> SaveAsync(
        HttpContext http, ProviderCaller caller, AppDbContext db, KeyVault vault, TimeProvider clock, long? orgId, long? spId)
    {
        var body = await JsonBody.ReadAsync<WebhooksRequest>(http.Request);
        if (body.Error is { } e) return ErrorResponses.Problem(e);
        var req = body.Value!;
        var allowPrivate = http.RequestServices.GetRequiredService<IOptions<KeygateOptions>>().Value.Webhooks.AllowPrivateNetworks;
        if (Validate(req, allowPrivate) is { } invalid) return ErrorResponses.Problem(invalid);
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

    private static KeygateError? Validate(WebhooksRequest r, bool allowPrivateNetworks)
    {
        var bad = new Dictionary<string, string[]>();
        if (r.Urls.Length > MaxUrls) bad["urls"] = [$"At most {MaxUrls} URLs."];
        for (var i = 0; i < Math.Min(r.Urls.Length, MaxUrls); i++)
            if (WebhookUrls.UrlProblem(r.Urls[i], allowPrivateNetworks) is { } problem) bad[$"urls[{i}]"] = [problem];
        if (r.Secret is { } s && (s.Length is < 16 or > 256 || s.Any(char.IsControl)))
            bad["secret"] = ["secret must be 16 to 256 characters without control characters."];
        return bad.Count == 0 ? null : KeygateError.Invalid("The webhook settings are not valid.", bad);
    }

}
