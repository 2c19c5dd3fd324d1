using System.Globalization;
using System.Text;
using CsCheck;

namespace Keygate.Tests;

/// <summary>The answer a bad input must get: a status and its code, or (Status 0) the same status a clean request gets.</summary>
public sealed record Expect(int Status, string? Code)
{
    public static readonly Expect Baseline = new(0, null);
    public static Expect Invalid(string code = BadInput.Invalid) => new(400, code);
    public static readonly Expect TooLarge = new(413, "PAYLOAD_TOO_LARGE");
    public static readonly Expect Unsupported = new(415, "UNSUPPORTED_MEDIA_TYPE");
    public static readonly Expect NotFound = new(404, "RESOURCE_NOT_FOUND");
}

/// <summary>A body the route must refuse, with the content type it is sent with (null: none) and the answer it must get.</summary>
public sealed record BadBody(string Label, byte[] Bytes, string? ContentType, Expect Expect);

/// <summary>
/// Generators of bad JSON bodies for a <see cref="BodySpec"/>: malformed Unicode (lone surrogate escapes, invalid
/// UTF-8, U+0000, raw control characters, broken escapes) in values and names, wrong JSON types, numbers that
/// overflow, over-long strings, values refused for their meaning, repeated names, deep nesting, bodies over the
/// size limit, truncated JSON, roots that are not objects, empty bodies and wrong or missing content types.
/// </summary>
public static class BadInput
{
    public const string Invalid = "INVALID_INPUT_ARGUMENT";
    public const string Json = "application/json";
    /// <summary>KeygateOptions.MaxJsonBodyBytes (64 KiB).</summary>
    public const int BodyLimit = 64 * 1024;

    private static readonly byte[] Q = [(byte)'"'];

    /// <summary>String literals (raw bytes, quotes included) that no reader may turn into text.</summary>
    public static readonly byte[][] MalformedStrings =
    [
        .. new[]
        {
            @"""ab\ud800cd""", @"""\ud800""", @"""\udbff""", @"""\udc00""", @"""x\udfff""", @"""\udc00\ud800""", @"""\ud800\u0041""",
            @"""\ud800\ud800""", @"""\u0000""", @"""a\u0000b""", @"""\u12""", @"""\uZZZZ""", @"""\x41""", @"""\U0001F600""",
            @"""\ud800\""", "\"tab\there\"", "\"new\nline\"",
        }.Select(BodyWriter.Utf8),
        .. new byte[][] { [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xE2, 0x82], [0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x01], [0x00] }
            .Select(b => (byte[])[.. Q, (byte)'a', .. b, (byte)'z', .. Q]),
    ];

    private static readonly string[] NonObjectRoots = ["[]", "[{}]", "\"text\"", "42", "true", "null", "\"{\\\"a\\\":1}\"", "[1,2,3]", "-0", "1e999"];
    private static readonly string?[] WrongContentTypes =
        [null, "text/plain", "text/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "application/octet-stream", "text/html"];
    private static readonly string[] Int32Overflows = ["2147483648", "-2147483649", "1e999", "1.5", "1e10", "99999999999999999999999999", "-1e999", "0.0000001"];
    private static readonly string[] Int64Overflows = ["9223372036854775808", "-9223372036854775809", "1e999", "1.5", "1e19", "123456789012345678901234567890", "-1e999"];
    private static readonly string[] TimestampOverflows = ["9223372036854775808", "99999999999999999999", "1e999", "1.5", "1700000000000.5", "-1700000000000", "1.7e12", "17e11"];

    /// <summary>Values of each JSON type, to put where another type belongs.</summary>
    private static readonly (FieldKind[] AcceptedBy, string[] Values)[] ByType =
    [
        ([FieldKind.Str, FieldKind.Enum, FieldKind.Timestamp], ["\"abc\"", "\"\""]),
        ([FieldKind.Int32, FieldKind.Int64, FieldKind.Timestamp], ["42", "-1.5", "0"]),
        ([FieldKind.Bool], ["true", "false"]),
        ([FieldKind.StrArray], ["[]", "[\"x\"]", "[1,2]"]),
        ([FieldKind.Obj], ["{}", "{\"a\":1}"]),
    ];

    public static IEnumerable<string> WrongTypes(Field f)
    {
        var values = ByType.Where(t => !t.AcceptedBy.Contains(f.Kind)).SelectMany(t => t.Values);
        if (f.Kind is FieldKind.StrArray) values = values.Concat(["[1]", "[true]", "[{}]", "[[]]"]);
        return f.Nullable ? values : values.Append("null");
    }

    /// <summary>Every bad body for a route's <see cref="BodySpec"/>.</summary>
    public static Gen<BadBody> Bodies(BodySpec spec)
    {
        var valid = spec.ValidBytes();
        var fields = spec.AllFields().ToArray();
        // Where a value is put that no field of the route knows: ignored on legacy routes, refused on our own.
        const string extra = "zzExtra";
        var invalid = Expect.Invalid();

        BadBody Json(string label, byte[] bytes, Expect e) => new(label, bytes, BadInput.Json, e);
        byte[] Mutate(Mutation m) => BodyWriter.Write(spec, m);

        var gens = new List<(int, Gen<BadBody>)>
        {
            // Malformed text as an extra member's value or name, and (below) in each field.
            (6, Gen.Int[0, MalformedStrings.Length - 1].Select(i =>
                Json($"malformed string #{i} in an unknown field", Mutate(new Mutation(Extras: [(extra, MalformedStrings[i])])), invalid))),
            (3, Gen.Int[0, MalformedStrings.Length - 1].Select(i =>
                Json($"malformed name #{i}", InsertMember(valid, MalformedStrings[i], "1"u8.ToArray()), invalid))),
            (3, Gen.Int[0, NonObjectRoots.Length - 1].Select(i => Json($"root {NonObjectRoots[i]}", BodyWriter.Utf8(NonObjectRoots[i]), invalid))),
            (4, Gen.Int[1, Math.Max(1, valid.Length - 1)].Select(n => Json($"truncated to {n} bytes", valid[..n], invalid))),
            (3, Gen.Select(Gen.Int[JsonBody.MaxDepth + 1, 400], Gen.Bool, Gen.Bool).Select((depth, arrays, root) =>
                Json($"nested {depth} deep ({(arrays ? "arrays" : "objects")}{(root ? ", at the root" : "")})",
                    root ? Nested(depth, arrays) : Mutate(new Mutation(Extras: [(extra, Nested(depth, arrays))])), invalid))),
            (2, Gen.Int[BodyLimit + 1, 3 * BodyLimit].Select(n =>
                Json($"{n}-byte body", Mutate(new Mutation(Extras: [(extra, BodyWriter.Utf8("\"" + new string('a', n) + "\""))])), Expect.TooLarge))),
            (3, Gen.Int[0, WrongContentTypes.Length - 1].Select(i =>
                new BadBody($"content type {WrongContentTypes[i] ?? "(none)"}", valid, WrongContentTypes[i], Expect.Unsupported))),
            (1, Gen.OneOf(spec.Required ? ["", " ", "\r\n\t"] : new[] { " ", "\r\n\t" }).Select(s => Json($"blank body '{s.Replace("\r", "\\r").Replace("\n", "\\n").Replace("\t", "\\t")}'",
                BodyWriter.Utf8(s), invalid))),
            (1, Gen.Int[0, 2].Select(i => Json("byte-order mark, or a value after the object",
                i == 0 ? [0xEF, 0xBB, 0xBF, .. valid] : [.. valid, .. (i == 1 ? "{}"u8.ToArray() : "x"u8.ToArray())], invalid))),
            (2, Gen.Bool.Select(nested => Json("an extra field named twice",
                Mutate(new Mutation(Extras: nested ? [(extra, "{\"a\":1,\"a\":1}"u8.ToArray())] : [(extra, "1"u8.ToArray()), (extra, "2"u8.ToArray())])), invalid))),
        };
        if (spec.Strict) gens.Add((2, Gen.Const(Json("an unknown field", Mutate(new Mutation(Extras: [(extra, "1"u8.ToArray())])), invalid))));

        foreach (var (path, f) in fields)
        {
            var code = Expect.Invalid(f.Code);
            gens.Add((3, Gen.Int[0, MalformedStrings.Length - 1].Select(i =>
                Json($"{path}: malformed string #{i}", Mutate(new Mutation(path, Value: MalformedStrings[i])), invalid))));
            gens.Add((1, Gen.Int[0, MalformedStrings.Length - 1].Select(i =>
                Json($"{path}: malformed name #{i}", Mutate(new Mutation(path, Name: MalformedStrings[i])), invalid))));
            gens.Add((2, Gen.Bool.Select(_ => Json($"{path}: named twice", Mutate(new Mutation(path, Duplicate: true)), invalid))));
            gens.Add((2, Gen.Int[JsonBody.MaxDepth + 1, 300].Select(d =>
                Json($"{path}: nested {d} deep", Mutate(new Mutation(path, Value: Nested(d, d % 2 == 0))), invalid))));
            var wrong = WrongTypes(f).ToArray();
            gens.Add((3, Gen.Int[0, wrong.Length - 1].Select(i => Json($"{path}: wrong type {wrong[i]}", Mutate(new Mutation(path, Value: BodyWriter.Utf8(wrong[i]))), code))));
            var overflows = f.Kind switch
            {
                FieldKind.Int32 => Int32Overflows, FieldKind.Int64 => Int64Overflows, FieldKind.Timestamp => TimestampOverflows, _ => [],
            };
            if (overflows.Length > 0)
                gens.Add((3, Gen.Int[0, overflows.Length - 1].Select(i => Json($"{path}: number {overflows[i]}", Mutate(new Mutation(path, Value: BodyWriter.Utf8(overflows[i]))), code))));
            if (f.Bad.Length > 0)
                gens.Add((2, Gen.Int[0, f.Bad.Length - 1].Select(i => Json($"{path}: bad value {f.Bad[i]}", Mutate(new Mutation(path, Value: BodyWriter.Utf8(f.Bad[i]))), code))));
            if (f.MaxLength > 0)
                gens.Add((2, Gen.Int[f.MaxLength + 1, Math.Min(f.MaxLength * 4 + 16, BodyLimit / 2)].Select(n =>
                    Json($"{path}: {n} characters", Mutate(new Mutation(path, Value: BodyWriter.Utf8(OverLong(f, n)))), code))));
            if (f.Kind is FieldKind.Str or FieldKind.Enum)
                gens.Add((1, Gen.Int[BodyLimit, 2 * BodyLimit].Select(n =>
                    Json($"{path}: {n} characters, over the body limit", Mutate(new Mutation(path, Value: BodyWriter.Utf8(OverLong(f, n)))), Expect.TooLarge))));
        }
        return Gen.Frequency([.. gens]);
    }

    /// <summary>A string of n characters, some outside ASCII so that its length in bytes differs.</summary>
    private static string OverLong(Field f, int n) =>
        f.Kind == FieldKind.StrArray ? $"[\"{new string('a', n)}\"]" : "\"" + string.Concat(Enumerable.Range(0, n).Select(i => i % 7 == 6 ? 'é' : 'a')) + "\"";

    public static byte[] Nested(int depth, bool arrays) => arrays
        ? BodyWriter.Utf8(new string('[', depth) + new string(']', depth))
        : BodyWriter.Utf8(string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth));

    /// <summary>A valid body with one more member (name and value given raw) at its start.</summary>
    private static byte[] InsertMember(byte[] valid, byte[] name, byte[] value) =>
        [(byte)'{', .. name, (byte)':', .. value, .. (valid.Length > 2 ? ","u8.ToArray() : []), .. valid[1..]];

    // ------------------------------------------------------------------ path and query values

    /// <summary>
    /// Path segments (already percent-encoded) that name no resource: not numbers, negative, zero, overflowing,
    /// decimals, Unicode (digits of other scripts included), encoded bytes that are not UTF-8, slashes. (No U+0000:
    /// the test server refuses to build such a request, and Kestrel answers it with its own 400 before any route.)
    /// </summary>
    public static readonly Gen<string> BadIds = Gen.Frequency(
        (6, Gen.OneOf("abc", "1a", "0x10", "1.5", "1e3", "-1", "0", "-0", "99999999999999999999", "9223372036854775808",
            "-9223372036854775809", "9223372036854775807", "NaN", "null", "undefined", "true", "%2F", "%ED%A0%80",
            "%FF", "%C0%80", "%E2%82", "%F0%9F%9A%80", "%D9%A1%D9%A2", "%EF%BC%91", "1%2C2", "%5B1%5D", "%7B%7D", "1;2", "%20", "~1")),
        (3, Gen.String[Gen.Char.Where(c => !char.IsSurrogate(c) && c != '\0'), 1, 40].Where(IsBadId).Select(Uri.EscapeDataString)),
        (2, Gen.Int[19, 400].Select(n => new string('9', n))));

    private static bool IsBadId(string s) =>
        s.Trim('.').Length > 0 && !long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || s.Length > 0 && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out n) && n <= 0;

    /// <summary>Query values of every sort (percent-encoded): Unicode, invalid UTF-8, U+0000, huge, repeated separators.</summary>
    public static readonly Gen<string> QueryValues = Gen.Frequency(
        (5, Gen.OneOf("", "%00", "a%00b", "%ED%A0%80", "%FF%FE", "%C0%80", "%", "%zz", "%2", "x%26y%3Dz", "%F0%9F%9A%80", "-1",
            "99999999999999999999", "1e999", "NaN", "true", "TRUE", "[]", "%7B%7D", "' OR 1=1 --", "%3Cscript%3E", "..%2F..%2F", "+", "%20")),
        (3, Gen.String[Gen.Char.Where(c => !char.IsSurrogate(c)), 0, 60].Select(Uri.EscapeDataString)),
        (1, Gen.Int[1000, 6000].Select(n => new string('q', n))));

    /// <summary>The generator's choice of query parameter names that no route reads.</summary>
    public static readonly Gen<string> JunkParameterNames = Gen.OneOf("zz", "x%00", "%ED%A0%80", "%F0%9F%9A%80", "a%5B%5D", "__proto__", "page%00");

    /// <summary>The text of a percent-encoded value, as the server sees it (invalid UTF-8 as U+FFFD, as ASP.NET Core decodes it).</summary>
    public static string Decoded(string encoded)
    {
        try { return Uri.UnescapeDataString(encoded.Replace('+', ' ')); }
        catch (UriFormatException) { return encoded; }
    }

    public static string Describe(byte[] bytes) =>
        bytes.Length > 160 ? $"{bytes.Length} bytes: {Printable(bytes[..120])}…" : Printable(bytes);

    private static string Printable(byte[] b) =>
        string.Concat(b.Select(x => x is >= 0x20 and < 0x7F ? ((char)x).ToString() : $"\\x{x:X2}"));
}
