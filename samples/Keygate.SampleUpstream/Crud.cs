using Microsoft.AspNetCore.Http.HttpResults;

namespace Keygate.SampleUpstream;

/// <summary>What the two editable resources share: listing, reading and deleting by id, and the name rules.</summary>
public static class Crud
{
    public static void MapCrudReads<T>(this RouteGroupBuilder group, string noun, Func<OrgData, SortedDictionary<long, T>> items, Func<T, string> name)
    {
        group.MapGet("", (Caller caller, OrgStore store, string? search, int? page, int? pageSize) =>
        {
            var org = store.For(caller);
            lock (org.Sync) return TypedResults.Ok(Listing.Page(items(org).Values, name, search, page, pageSize));
        }).WithSummary($"List {noun}s");
        group.MapGet("/{id:long}", Results<Ok<T>, JsonHttpResult<ApiError>> (long id, Caller caller, OrgStore store) =>
        {
            var org = store.For(caller);
            lock (org.Sync) return items(org).TryGetValue(id, out var item) ? TypedResults.Ok(item) : ApiError.NotFound();
        }).WithSummary($"Get a {noun}");
    }

    /// <summary>
    /// Creates (<paramref name="id"/> null) or replaces an object under the org's lock. <paramref name="make"/> gets the
    /// org, the object's id and the old object (null on create), and answers the object to store or a refusal.
    /// </summary>
    public static Results<Ok<T>, JsonHttpResult<ApiError>> Save<T>(OrgStore store, Caller caller, Func<OrgData, SortedDictionary<long, T>> items,
        long? id, Func<OrgData, long, T?, Made<T>> make) where T : class
    {
        var org = store.For(caller);
        lock (org.Sync)
        {
            T? old = null;
            if (id is { } existing && !items(org).TryGetValue(existing, out old)) return ApiError.NotFound();
            var key = id ?? store.NextId();
            var made = make(org, key, old);
            if (made.Value is null) return made.Error!;
            items(org)[key] = made.Value;
            return TypedResults.Ok(made.Value);
        }
    }

    public static Results<NoContent, JsonHttpResult<ApiError>> Delete<T>(OrgData org, Func<OrgData, SortedDictionary<long, T>> items, long id)
    {
        lock (org.Sync) return items(org).Remove(id) ? TypedResults.NoContent() : ApiError.NotFound();
    }

    /// <summary>A name is required, at most 255 characters, and unique in the org (case-insensitive) among <paramref name="others"/>.</summary>
    public static JsonHttpResult<ApiError>? CheckName(string? name, IEnumerable<string> others)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 255) return ApiError.Invalid("name is required (at most 255 characters).");
        if (others.Contains(name.Trim(), StringComparer.OrdinalIgnoreCase))
            return TypedResults.Json(new ApiError("DUPLICATE_ITEM", "An object with this name already exists."), statusCode: 400);
        return null;
    }
}

/// <summary>An object to store, or the refusal that stops it.</summary>
public readonly record struct Made<T>(T? Value, JsonHttpResult<ApiError>? Error) where T : class
{
    public static implicit operator Made<T>(T value) => new(value, null);
    public static implicit operator Made<T>(JsonHttpResult<ApiError> error) => new(null, error);
}
