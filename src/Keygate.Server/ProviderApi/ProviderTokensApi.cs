using Keygate.Accounts;
using Keygate.Data;
using Keygate.Kernel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Keygate.ProviderApi;

/// <summary>A token as listed: never its value. Times are epoch seconds.</summary>
public sealed record TokenView(long Id, string Name, string Prefix, long? ServiceProviderId, long CreatedAt, long? ExpiresAt, long? LastUsedAt, long? RevokedAt)
{
    public static TokenView From(ProviderToken t) => new(t.Id, t.Name, t.Prefix, t.ServiceProviderId, t.CreatedAtMs / 1000,
        t.ExpiresAtMs / 1000, t.LastUsedAtMs / 1000, t.RevokedAtMs / 1000);
}

/// <summary>A new token: the view plus the token itself, shown this once.</summary>
public sealed record TokenCreated(long Id, string Name, string Prefix, long? ServiceProviderId, long CreatedAt, long? ExpiresAt, long? LastUsedAt,
    long? RevokedAt, string Token)
{
    public static TokenCreated From(ProviderToken t, string token)
    {
        var v = TokenView.From(t);
        return new(v.Id, v.Name, v.Prefix, v.ServiceProviderId, v.CreatedAt, v.ExpiresAt, v.LastUsedAt, v.RevokedAt, token);
    }
}

/// <summary>Provider API tokens over time (contract B): the routes of <see cref="TokenChanges"/>, which holds the rules.</summary>
public static class ProviderTokensApi
{
    public static void MapProviderTokens(this RouteGroupBuilder api)
    {
        api.MapGet("/tokens", List).WithName("ListTokens").WithSummary("List the provider API tokens the caller may manage (never their values)");
        api.MapPost("/tokens", Create).WithName("CreateToken").WithSummary("Create a provider API token, shown once")
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND");
        api.MapPost("/tokens/{id}/rotate", Rotate).WithName("RotateToken")
            .WithSummary("Replace a token by a new one, shown once; the old one works until the grace period ends")
            .DocumentsBody<RotateTokenRequest, RouteHandlerBuilder>("application/json", optional: true)
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "CONFLICT");
        api.MapDelete("/tokens/{id}", Revoke).WithName("RevokeToken").WithSummary("Revoke a token at once, on every node")
            .Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "LAST_OPERATOR_TOKEN");
    }

    private static async Task<Ok<TokenView[]>> List(ProviderCaller caller, TokenChanges tokens)
    {
        var rows = await tokens.Visible(caller.Actor).AsNoTracking().OrderBy(t => t.Id).ToListAsync();
        return TypedResults.Ok(rows.Select(TokenView.From).ToArray());
    }

    private static async Task<Results<Created<TokenCreated>, ProblemHttpResult>> Create([FromBody] CreateTokenRequest req, ProviderCaller caller, TokenChanges tokens) =>
        Render(await tokens.CreateAsync(caller.Actor, req.Name, req.ExpiresAt, req.ServiceProviderId));

    private static async Task<Results<Created<TokenCreated>, ProblemHttpResult>> Rotate(string id, HttpContext http, ProviderCaller caller, TokenChanges tokens)
    {
        if (!long.TryParse(id, out var n) || !await tokens.Visible(caller.Actor).AnyAsync(t => t.Id == n)) return ProviderApi.NotFound;
        var grace = TokenChanges.DefaultGraceSeconds;
        // The body is optional; when sent it is checked like any other of ours (its range by the rotation itself).
        if (JsonBody.HasBody(http.Request))
        {
            var body = await JsonBody.ReadAsync<RotateTokenRequest>(http.Request);
            if (body.Error is { } e) return ErrorResponses.Problem(e);
            grace = body.Value!.GraceSeconds ?? TokenChanges.DefaultGraceSeconds;
        }
        return Render(await tokens.RotateAsync(caller.Actor, n, grace));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(string id, ProviderCaller caller, TokenChanges tokens)
    {
        if (!long.TryParse(id, out var n)) return ProviderApi.NotFound;
        return await tokens.RevokeAsync(caller.Actor, n) is { } e ? ErrorResponses.Problem(e) : TypedResults.NoContent();
    }

    private static Results<Created<TokenCreated>, ProblemHttpResult> Render(Result<NewToken> made) =>
        made.Value is { } t ? TypedResults.Created($"/provider/v1/tokens/{t.Row.Id}", TokenCreated.From(t.Row, t.Token)) : ErrorResponses.Problem(made.Error!);
}
