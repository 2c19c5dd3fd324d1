using Keygate.Accounts;
using Keygate.Audit;
using Keygate.Data;
using Keygate.Kernel;
using Keygate.Secrets;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using System.ComponentModel.DataAnnotations;

namespace Keygate.ProviderApi;

public sealed record CreateServiceProviderRequest([property: Required, Name] string Name);
public sealed record ServiceProviderCreated(long Id, string Name, string Token);
/// <summary>The username and password rules are <see cref="Passwords.Validate"/>'s, shared by every account.</summary>
public sealed record CreateStaffRequest([property: Required] string Username, [property: Required] string Password, long? ServiceProviderId = null);
public sealed record StaffCreated(long Id, string Username, long? ServiceProviderId);

/// <summary>Service providers (operator only) and staff logins for the provider console.</summary>
public static class ProviderAccountsApi
{
    public static void MapProviderAccounts(this RouteGroupBuilder api)
    {
        api.MapPost("/serviceProviders", CreateServiceProvider).WithName("CreateServiceProvider")
            .WithSummary("Create a service provider and its bearer token, shown once (operator only)")
            .RefusesBadBody().Refuses(403, "ACCESS_DENIED");
        api.MapPost("/staff", CreateStaff).WithName("CreateStaff").WithSummary("Create a provider console login")
            .RefusesBadBody().Refuses(404, "RESOURCE_NOT_FOUND").Refuses(409, "USERNAME_TAKEN");
    }

    private static async Task<Results<Created<ServiceProviderCreated>, ProblemHttpResult>> CreateServiceProvider(
        [FromBody] CreateServiceProviderRequest req, ProviderCaller caller, AppDbContext db, TimeProvider clock)
    {
        if (!caller.IsOperator) return ErrorResponses.Problem(KeygateError.AccessDenied);
        var sp = new Data.ServiceProvider { Name = req.Name.Trim(), CreatedAtMs = clock.Now() };
        var token = ProviderTokens.Generate(ProviderTokens.ServiceProviderPrefix);
        await using var tx = await db.Database.BeginTransactionAsync();
        db.ServiceProviders.Add(sp);
        await db.SaveChangesAsync();
        db.ProviderTokens.Add(ProviderTokens.Row(token, sp.Id, sp.Name, clock.Now()));
        db.AuditEvents.Add(AuditLog.Event(caller.Actor, null, "serviceProvider.create", null, AuditLog.Success, clock.Now(), $"id={sp.Id}"));
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return TypedResults.Created($"/provider/v1/serviceProviders/{sp.Id}", new ServiceProviderCreated(sp.Id, sp.Name, token));
    }

    private static async Task<Results<Created<StaffCreated>, ProblemHttpResult>> CreateStaff(
        [FromBody] CreateStaffRequest req, ProviderCaller caller, AccountChanges accounts)
    {
        var created = await accounts.CreateStaffAsync(caller.Actor, req.Username, req.Password, req.ServiceProviderId);
        return created.Value is { } a
            ? TypedResults.Created($"/provider/v1/staff/{a.Id}", new StaffCreated(a.Id, a.Username, a.ServiceProviderId))
            : ErrorResponses.Problem(created.Error!);
    }
}
