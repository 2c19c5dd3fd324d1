namespace Keygate.Kernel;

public static class Names
{
    public static KeygateError? Validate(string? value, string field, int max = 200) =>
        string.IsNullOrWhiteSpace(value) || value.Trim().Length > max || value.Any(char.IsControl)
            ? KeygateError.Invalid(field, $"{field} must be 1 to {max} characters without control characters.")
            : null;
}
