using System.Net;
using System.Text;

namespace Keygate.Tests;

/// <summary>Every bad input gets a clear 4xx with a stable code, never a 500.</summary>
public sealed class BadInputTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    public static TheoryData<string> OddBodies =>
    [
        "", "null", "[]", "\"text\"", "{", "{\"name\":", "{\"name\":\"\\ud800\"}", "{\"name\":\"a\u0000b\"}",
        "{\"name\":1e999}", "{\"name\":{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
        "\uFEFF{\"name\":\"x\"}", "{\"name\":\"x\",\"name\":\"y\",\"extra\":true}",
    ];

    /// <summary>
    /// Every odd body for a route whose body is {"name": string}, each answered 400 INVALID_INPUT_ARGUMENT (contract B):
    /// unknown fields and repeated names are split out, so that each is refused on its own.
    /// </summary>
    public static TheoryData<string> OddProviderBodies =>
    [
        "",
        "null",
        "[]",
        "\"text\"",
        "{",
        "{\"name\":",
        "{\"name\":\"\\ud800\"}",
        "{\"name\":\"a\u0000b\"}",
        "{\"name\":1e999}",
        "{\"name\":{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
        // A byte order mark is not JSON text (RFC 8259 §8.1: senders must not add one); Keygate refuses it.
        "\uFEFF{\"name\":\"x\"}",
        "{\"name\":\"x\",\"extra\":true}", // unknown field
        "{\"name\":\"x\",\"name\":\"y\"}", // duplicate key: which one was meant?
        "{\"name\":\"x\",\"name\":\"y\",\"extra\":true}",
    ];

    [Theory]
    [MemberData(nameof(OddProviderBodies))]
    public async Task ProviderApiAnswersEachOddBodyWith400(string body)
    {
        var r = await app.Provider().PostAsync("/provider/v1/serviceProviders", new StringContent(body, Encoding.UTF8, "application/json"));
        await r.AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [MemberData(nameof(OddBodies))]
    public async Task LegacyLoginAnswersOddBodiesWith400(string body)
    {
        var r = await app.Client().PostAsync("/api/v1/auth", new StringContent(body, Encoding.UTF8, "application/json"));
        await r.AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
    }

    [Fact]
    public async Task HugeBodiesGet413OnBothSurfaces()
    {
        var huge = "{\"name\":\"" + new string('a', 2 * 1024 * 1024) + "\"}";
        var r = await app.Provider().PostAsync("/provider/v1/serviceProviders", new StringContent(huge, Encoding.UTF8, "application/json"));
        await r.AssertError(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE");
        r = await app.Client().PostAsync("/api/v1/auth", new StringContent(huge, Encoding.UTF8, "application/json"));
        await r.AssertError(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE");
    }

    [Fact]
    public async Task UnknownRoutesAndMethodsAnswerInTheSurfaceFormat()
    {
        var r = await app.Provider().GetAsync("/provider/v1/nothing-here");
        await r.AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        // Contract A7: an /api/v1 path with no route is checked like a gateway call first, so the session comes before the 404.
        r = await app.Client().GetAsync("/api/v1/nothing-here");
        await r.AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        r = await (await app.SessionAsync(await app.CreateOrgAsync())).GetAsync("/api/v1/nothing-here");
        await r.AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        r = await app.Provider().DeleteAsync("/provider/v1/organizations");
        await r.AssertError(HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED");
    }

    [Fact]
    public async Task NamesWithUnicodeAreKeptExactly()
    {
        var name = "Zürich 東京 Ωmega 🚀";
        var r = await app.Provider().PostAsync("/provider/v1/serviceProviders", Scenario.Json(new { name }));
        var body = await r.AssertOk(HttpStatusCode.Created);
        Assert.Equal(name, body.GetProperty("name").GetString());
    }
}
