using Keygate.Data;
using Keygate.Kernel;

namespace Keygate.Keys;

public sealed record DisableRequest(DisabledReason Reason, string? Note = null)
{
    public KeygateError? Validate() =>
        Note is { Length: > 1000 } ? KeygateError.Invalid("note", "note must be at most 1000 characters.")
        : !Enum.IsDefined(Reason) ? KeygateError.Invalid("reason", "reason must be TERMS_VIOLATION or OTHER.")
        : null;
}
