using System.Text;

namespace Keygate.Tests;

/// <summary>The JSON shape a field accepts; the bad-body generators produce everything else.</summary>
public enum FieldKind { Str, Int32, Int64, Bool, Enum, Timestamp, StrArray, Obj }

/// <summary>
/// A field of a route's JSON body: its kind, a valid value (raw JSON), and what the route refuses. Every generated
/// body differs from a valid one in exactly one way that the route must refuse.
/// </summary>
public sealed record Field(string Name, FieldKind Kind, string Valid)
{
    /// <summary>null is a valid value (an optional field of Keygate's own routes).</summary>
    public bool Nullable { get; init; }
    /// <summary>Strings longer than this are refused (0: no limit known, so no over-long values are generated).</summary>
    public int MaxLength { get; init; }
    /// <summary>Values of the right type that the route refuses for their meaning (raw JSON).</summary>
    public string[] Bad { get; init; } = [];
    /// <summary>The code a wrong, over-long or bad value of this field gets (legacy keyValue: INVALID_KEY_VALUE).</summary>
    public string Code { get; init; } = BadInput.Invalid;
    public Field[] Children { get; init; } = [];

    public static Field Str(string name, int max, string valid = "\"abcdefgh\"") => new(name, FieldKind.Str, valid) { MaxLength = max };
    public static Field Int(string name, string valid = "5") => new(name, FieldKind.Int32, valid) { Nullable = true, Bad = ["0", "-1"] };
    public static Field Long(string name, string valid = "5") => new(name, FieldKind.Int64, valid) { Nullable = true, Bad = ["0", "-1"] };
    public static Field Bool(string name) => new(name, FieldKind.Bool, "true");
    public static Field Enum(string name, params string[] values) =>
        new(name, FieldKind.Enum, $"\"{values[0]}\"") { Bad = ["\"\"", "\"NOT_A_VALUE\"", "\"" + values[0] + "X\""], MaxLength = 64 };
    public static Field Obj(string name, params Field[] children) =>
        new(name, FieldKind.Obj, "") { Children = children, Nullable = true };
}

/// <summary>
/// A route's body. <paramref name="Strict"/>: unknown fields are refused (Keygate's own routes, contract B); else
/// they are ignored (legacy, A2). <paramref name="Required"/>: an absent body is refused.
/// </summary>
public sealed record BodySpec(Field[] Fields, bool Strict, bool Required)
{
    public static BodySpec Legacy(params Field[] fields) => new(fields, Strict: false, Required: true);
    public static BodySpec LegacyOptional(params Field[] fields) => new(fields, Strict: false, Required: false);
    public static BodySpec Provider(params Field[] fields) => new(fields, Strict: true, Required: true);
    public static BodySpec ProviderOptional(params Field[] fields) => new(fields, Strict: true, Required: false);

    /// <summary>The valid body every generated one is one step away from.</summary>
    public byte[] ValidBytes() => BodyWriter.Write(this, null);

    /// <summary>Every field with its dotted path, nested ones included.</summary>
    public IEnumerable<(string Path, Field Field)> AllFields() => Walk(Fields, "");

    private static IEnumerable<(string, Field)> Walk(Field[] fields, string prefix) =>
        fields.SelectMany(f => new[] { (prefix + f.Name, f) }.Concat(Walk(f.Children, prefix + f.Name + ".")));
}

/// <summary>One change to a valid body: a field's value or name replaced, the field repeated, or members added at the root.</summary>
public sealed record Mutation(string? Target = null, byte[]? Value = null, byte[]? Name = null, bool Duplicate = false,
    (string Name, byte[] Value)[]? Extras = null);

/// <summary>Writes bodies as bytes (not through a serializer), so a body can hold what no serializer would write.</summary>
public static class BodyWriter
{
    public static byte[] Write(BodySpec spec, Mutation? m)
    {
        var o = new List<byte>();
        WriteObject(o, spec.Fields, "", m, m?.Extras);
        return [.. o];
    }

    private static void WriteObject(List<byte> o, Field[] fields, string prefix, Mutation? m, (string Name, byte[] Value)[]? extras)
    {
        o.Add((byte)'{');
        var first = true;
        void Member(byte[] name, byte[] value)
        {
            if (!first) o.Add((byte)',');
            first = false;
            o.AddRange(name);
            o.Add((byte)':');
            o.AddRange(value);
        }
        foreach (var f in fields)
        {
            var path = prefix + f.Name;
            var target = m?.Target == path;
            var value = target && m!.Value is { } v ? v : ValueOf(f, path, m);
            var name = target && m!.Name is { } n ? n : Utf8($"\"{f.Name}\"");
            Member(name, value);
            if (target && m!.Duplicate) Member(name, value);
        }
        foreach (var (name, value) in extras ?? []) Member(Utf8($"\"{name}\""), value);
        o.Add((byte)'}');
    }

    private static byte[] ValueOf(Field f, string path, Mutation? m)
    {
        if (f.Kind != FieldKind.Obj) return Utf8(f.Valid);
        var o = new List<byte>();
        WriteObject(o, f.Children, path + ".", m, null);
        return [.. o];
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
