using System.ComponentModel.DataAnnotations;

namespace Keygate.Kernel;

// Rules on single fields of Keygate's request records, checked by the framework's validation (RequestValidation).

/// <summary>A display name: 1 to <paramref name="max"/> characters once trimmed, no control characters. Null is left to [Required].</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class NameAttribute(int max = 200) : ValidationAttribute($"Must be 1 to {max} characters without control characters.")
{
    public override bool IsValid(object? value) =>
        value is null || value is string s && !string.IsNullOrWhiteSpace(s) && s.Trim().Length <= max && !s.Any(char.IsControl);
}

/// <summary>An absolute http or https URL of at most 2000 characters. Null is left to [Required].</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class HttpUrlAttribute() : ValidationAttribute("Must be an absolute http(s) URL.")
{
    public override bool IsValid(object? value) =>
        value is null || value is string s && s.Length <= 2000 && Uri.TryCreate(s, UriKind.Absolute, out var u) && u.Scheme is "http" or "https";
}

/// <summary>No control characters. Null is left to [Required].</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class NoControlCharactersAttribute() : ValidationAttribute("Must not contain control characters.")
{
    public override bool IsValid(object? value) => value is not string s || !s.Any(char.IsControl);
}
