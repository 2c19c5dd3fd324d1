using System.ComponentModel.DataAnnotations;
using Keygate.Data;

namespace Keygate.Keys;

/// <summary>POST …/disable: why (a defined reason, never a combination) and an optional note.</summary>
public sealed record DisableRequest(
    [property: EnumDataType(typeof(DisabledReason), ErrorMessage = "reason must be TERMS_VIOLATION or OTHER.")] DisabledReason Reason,
    [property: StringLength(1000, ErrorMessage = "note must be at most 1000 characters.")] string? Note = null);
