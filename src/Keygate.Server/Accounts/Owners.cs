using Keygate.Data;
using Keygate.Kernel;
using Microsoft.EntityFrameworkCore;

namespace Keygate.Accounts;

public static class Owners
{
    /// <summary>
    /// The service provider a new org, staff login or token belongs to: a service provider always its own (naming another
    /// is answered as if it did not exist), the operator the one it names, which must exist (null: the operator's own).
    /// </summary>
    public static async Task<Result<long?>> ResolveAsync(AppDbContext db, Actor actor, long? named)
    {
        if (actor.Kind != ActorKind.Operator)
            return named is not null && named != actor.ServiceProviderId ? KeygateError.NotFound : actor.ServiceProviderId;
        if (named is not null && !await db.ServiceProviders.AnyAsync(s => s.Id == named))
            return KeygateError.Invalid("serviceProviderId", "No such service provider.");
        return named;
    }
}
