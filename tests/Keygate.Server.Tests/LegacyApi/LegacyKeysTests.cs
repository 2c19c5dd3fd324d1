using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// The session-authenticated key endpoints of the legacy API (contract A3/A4), through HTTP on the real host.
/// Every test makes its own org(s); the tests of this class share one host and run one after another.
/// </summary>
public sealed class LegacyKeysTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    private const string Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string SandboxType = "SANDBOX_SUBMISSION";

    // ---------------------------------------------------------------- GET /api/v1/apiKeys

    [Fact]
    public async Task ListByDefaultReturnsOnlyTheCloudServiceKeyWithEveryA3Field()
    {
        var org = await NewOrgAsync();
        var now = app.Clock.GetUtcNow().ToUnixTimeSeconds();
        using var session = await app.SessionAsync(org);
        await AddSandboxAsync(session);

        var r = await session.GetAsync("/api/v1/apiKeys");
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        var keys = await r.AssertOk();

        Assert.Equal(JsonValueKind.Array, keys.ValueKind);
        var key = Assert.Single(keys.EnumerateArray());
        Assert.Equal(org.KeyId, key.GetProperty("id").GetInt64());
        Assert.True(key.GetProperty("id").GetInt64() > 0);
        Assert.Equal(await app.KeyValueAsync(org), key.GetProperty("keyValue").GetString());
        Assert.Matches("^[A-Za-z0-9]{12}$", key.GetProperty("keyValue").GetString()!);
        Assert.Equal("CLOUD_SERVICE", key.GetProperty("keyType").GetString());
        Assert.Equal(["ALL"], key.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()).ToArray());
        Assert.Equal(JsonValueKind.True, key.GetProperty("enabled").ValueKind);
        Assert.Equal("ENABLED", key.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, key.GetProperty("disabledReason").ValueKind);
        // Epoch seconds (not milliseconds): the key was provisioned at the fake clock's "now".
        Assert.Equal(now, key.GetProperty("lastModifiedTime").GetInt64());
        var by = key.GetProperty("lastModifiedBy");
        Assert.Equal(JsonValueKind.Number, by.GetProperty("id").ValueKind);
        Assert.Equal(0, by.GetProperty("id").GetInt64()); // provisioned by the provider side
        Assert.False(string.IsNullOrEmpty(by.GetProperty("name").GetString()));
        Assert.Equal("", key.GetProperty("partnerUrl").GetString());
    }

    [Fact]
    public async Task ListWithKeyTypeSandboxSubmissionOrAllWidensIt()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);

        Assert.Empty((await (await session.GetAsync("/api/v1/apiKeys?keyType=SANDBOX_SUBMISSION")).AssertOk()).EnumerateArray());
        var sandbox = await AddSandboxAsync(session);

        var onlySandbox = await (await session.GetAsync("/api/v1/apiKeys?keyType=SANDBOX_SUBMISSION")).AssertOk();
        var s = Assert.Single(onlySandbox.EnumerateArray());
        Assert.Equal(sandbox.GetProperty("id").GetInt64(), s.GetProperty("id").GetInt64());
        Assert.Equal(SandboxType, s.GetProperty("keyType").GetString());
        Assert.Equal(sandbox.GetProperty("keyValue").GetString(), s.GetProperty("keyValue").GetString());
        Assert.Equal("ENABLED", s.GetProperty("status").GetString());

        var all = await (await session.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk();
        Assert.Equal(["CLOUD_SERVICE", SandboxType],
            all.EnumerateArray().Select(k => k.GetProperty("keyType").GetString()).Order().ToArray());
        Assert.Single((await (await session.GetAsync("/api/v1/apiKeys")).AssertOk()).EnumerateArray());
    }

    [Fact]
    public async Task ListAcceptsAndIgnoresIncludePartnerKeyIncludePartnerKeysPageAndPageSize()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        await AddSandboxAsync(session);
        var plain = (await (await session.GetAsync("/api/v1/apiKeys")).AssertOk()).GetRawText();

        foreach (var query in new[]
        {
            "includePartnerKey=True", "includePartnerKey=false", "includePartnerKeys=false", "includePartnerKeys=TRUE",
            "page=1", "pageSize=100", "includePartnerKey=True&includePartnerKeys=false&page=1&pageSize=100",
        })
            Assert.Equal(plain, (await (await session.GetAsync("/api/v1/apiKeys?" + query)).AssertOk()).GetRawText());

        var all = await (await session.GetAsync("/api/v1/apiKeys?keyType=ALL&includePartnerKey=True&page=1&pageSize=100")).AssertOk();
        Assert.Equal(2, all.GetArrayLength());
    }

    // ---------------------------------------------------------------- POST /api/v1/apiKeys

    [Fact]
    public async Task AddSandboxKeyAnswers201With32AlphanumericCharacters()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);

        var r = await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = SandboxType }));
        var key = await r.AssertOk(HttpStatusCode.Created);

        Assert.Matches("^[A-Za-z0-9]{32}$", key.GetProperty("keyValue").GetString()!);
        Assert.Equal(SandboxType, key.GetProperty("keyType").GetString());
        Assert.True(key.GetProperty("id").GetInt64() > 0);
        Assert.NotEqual(org.KeyId, key.GetProperty("id").GetInt64());
        Assert.Equal("ENABLED", key.GetProperty("status").GetString());
        Assert.True(key.GetProperty("enabled").GetBoolean());
        Assert.Equal(org.Username, key.GetProperty("lastModifiedBy").GetProperty("name").GetString());
        Assert.Equal(await app.KeyValueAsync(org, SandboxType), key.GetProperty("keyValue").GetString());
    }

    [Fact]
    public async Task AddingASecondSandboxKeyGives409KeyAlreadyExists()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var first = await AddSandboxAsync(session);

        await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = SandboxType })))
            .AssertError(HttpStatusCode.Conflict, "KEY_ALREADY_EXISTS");

        var sandboxes = await (await session.GetAsync("/api/v1/apiKeys?keyType=SANDBOX_SUBMISSION")).AssertOk();
        Assert.Equal(first.GetProperty("keyValue").GetString(), Assert.Single(sandboxes.EnumerateArray()).GetProperty("keyValue").GetString());
    }

    [Fact]
    public async Task AddingACloudServiceKeyWhileOneExistsGives409KeyAlreadyExists()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var before = await app.KeyValueAsync(org);

        // keyType defaults to CLOUD_SERVICE: with {}, with no body, and named explicitly.
        await (await session.PostAsync("/api/v1/apiKeys", RawJson("{}"))).AssertError(HttpStatusCode.Conflict, "KEY_ALREADY_EXISTS");
        await (await session.PostAsync("/api/v1/apiKeys", null)).AssertError(HttpStatusCode.Conflict, "KEY_ALREADY_EXISTS");
        await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = "CLOUD_SERVICE" })))
            .AssertError(HttpStatusCode.Conflict, "KEY_ALREADY_EXISTS");

        Assert.Equal(before, await app.KeyValueAsync(org));
        Assert.Single((await (await session.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk()).EnumerateArray());
    }

    [Fact]
    public async Task ADeletedSandboxKeyReAddedGetsANewLargerIdNeverReused()
    {
        var org = await NewOrgAsync();
        var other = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var seen = new List<long> { org.KeyId, other.KeyId };

        for (var round = 0; round < 3; round++)
        {
            var added = await AddSandboxAsync(session);
            var id = added.GetProperty("id").GetInt64();
            Assert.DoesNotContain(id, seen);
            Assert.True(id > seen.Max(), $"id {id} is not larger than every earlier id ({string.Join(",", seen)})");
            seen.Add(id);
            Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/api/v1/apiKeys/{id}")).StatusCode);
        }
    }

    // ---------------------------------------------------------------- PUT /api/v1/apiKeys/{id}

    [Fact]
    public async Task EditAnswers200WithTheNewValueTheSameIdAndTheAdminAsLastModifiedBy()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);

        var r = await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = "NewKey123456" }));
        var key = await r.AssertOk();

        Assert.Equal(org.KeyId, key.GetProperty("id").GetInt64());
        Assert.Equal("NewKey123456", key.GetProperty("keyValue").GetString());
        Assert.Equal("CLOUD_SERVICE", key.GetProperty("keyType").GetString());
        Assert.Equal("ENABLED", key.GetProperty("status").GetString());
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds(), key.GetProperty("lastModifiedTime").GetInt64());
        var by = key.GetProperty("lastModifiedBy");
        Assert.True(by.GetProperty("id").GetInt64() > 0);
        Assert.Equal(org.Username, by.GetProperty("name").GetString());

        var listed = Assert.Single((await (await session.GetAsync("/api/v1/apiKeys")).AssertOk()).EnumerateArray());
        Assert.Equal(key.GetRawText(), listed.GetRawText());
        Assert.Equal("NewKey123456", await app.KeyValueAsync(org));
    }

    [Theory]
    [InlineData("""{"keyValue":"AbCdEfGh123"}""")]          // 11 characters
    [InlineData("""{"keyValue":"AbCdEfGh12345"}""")]        // 13 characters
    [InlineData("""{"keyValue":""}""")]
    [InlineData("""{"keyValue":"abc-def_1234"}""")]         // not alphanumeric
    [InlineData("""{"keyValue":"AbCdEfGh123 "}""")]
    [InlineData("""{"keyValue":"ÄbcdefGh1234"}""")]         // a letter, but not ASCII
    [InlineData("""{"keyValue":"AbCdEfGh١٢٣٤"}""")]         // digits, but not ASCII
    [InlineData("""{"keyValue":123456789012}""")]           // a number instead of a string
    [InlineData("""{"keyValue":null}""")]
    [InlineData("""{}""")]                                  // keyValue missing
    public async Task EditWithAValueThatIsNotExactly12AsciiAlphanumericsGives400InvalidKeyValue(string body)
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var before = await app.KeyValueAsync(org);

        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", RawJson(body))).AssertError(HttpStatusCode.BadRequest, "INVALID_KEY_VALUE");

        Assert.Equal(before, await app.KeyValueAsync(org));
    }

    [Fact]
    public async Task EditWithTheCurrentValueGives409KeyValueUnchanged()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var current = await app.KeyValueAsync(org);

        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = current })))
            .AssertError(HttpStatusCode.Conflict, "KEY_VALUE_UNCHANGED");
        Assert.Equal(current, await app.KeyValueAsync(org));
    }

    [Fact]
    public async Task EditOfTheSandboxKeyGives409KeyNotEditable()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var sandbox = await AddSandboxAsync(session);
        var id = sandbox.GetProperty("id").GetInt64();

        await (await session.PutAsync($"/api/v1/apiKeys/{id}", Json(new { keyValue = NewValue() })))
            .AssertError(HttpStatusCode.Conflict, "KEY_NOT_EDITABLE");
        // KEY_NOT_EDITABLE comes before INVALID_KEY_VALUE, so a 32-character value is refused the same way.
        await (await session.PutAsync($"/api/v1/apiKeys/{id}", Json(new { keyValue = RandomNumberGenerator.GetString(Alphanumerics, 32) })))
            .AssertError(HttpStatusCode.Conflict, "KEY_NOT_EDITABLE");
        Assert.Equal(sandbox.GetProperty("keyValue").GetString(), await app.KeyValueAsync(org, SandboxType));
    }

    // ---------------------------------------------------------------- POST /api/v1/apiKeys/{id}/regenerate

    [Fact]
    public async Task RegenerateWithAnEmptyBodyOrAnEmptyObjectAnswers200WithANew12CharacterValueAndTheSameId()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var values = new List<string> { await app.KeyValueAsync(org) };

        foreach (var body in new HttpContent?[] { null, RawJson("{}") })
        {
            var key = await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", body)).AssertOk();
            Assert.Equal(org.KeyId, key.GetProperty("id").GetInt64());
            var value = key.GetProperty("keyValue").GetString()!;
            Assert.Matches("^[A-Za-z0-9]{12}$", value);
            Assert.DoesNotContain(value, values);
            Assert.Equal(org.Username, key.GetProperty("lastModifiedBy").GetProperty("name").GetString());
            Assert.Equal(value, await app.KeyValueAsync(org));
            values.Add(value);
        }
    }

    [Fact]
    public async Task RegenerateOfTheSandboxKeyGivesANew32CharacterValueAndTheSameId()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var sandbox = await AddSandboxAsync(session);
        var id = sandbox.GetProperty("id").GetInt64();

        var key = await (await session.PostAsync($"/api/v1/apiKeys/{id}/regenerate", null)).AssertOk();
        Assert.Equal(id, key.GetProperty("id").GetInt64());
        Assert.Matches("^[A-Za-z0-9]{32}$", key.GetProperty("keyValue").GetString()!);
        Assert.NotEqual(sandbox.GetProperty("keyValue").GetString(), key.GetProperty("keyValue").GetString());
        Assert.Equal(key.GetProperty("keyValue").GetString(), await app.KeyValueAsync(org, SandboxType));
    }

    // ---------------------------------------------------------------- DELETE /api/v1/apiKeys/{id}

    [Fact]
    public async Task DeleteAnswers204AndTheKeyIsGone()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var id = (await AddSandboxAsync(session)).GetProperty("id").GetInt64();

        var r = await session.DeleteAsync($"/api/v1/apiKeys/{id}");
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.Empty(await r.Content.ReadAsByteArrayAsync());

        Assert.Empty((await (await session.GetAsync("/api/v1/apiKeys?keyType=SANDBOX_SUBMISSION")).AssertOk()).EnumerateArray());
        await (await session.DeleteAsync($"/api/v1/apiKeys/{id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task DeletingTheCloudServiceKeyEndsTheSessionsBoundToIt()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        using var second = await app.SessionAsync(org);

        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/api/v1/apiKeys/{org.KeyId}")).StatusCode);

        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await second.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await second.PostAsync("/api/v1/apiKeys", Json(new { keyType = SandboxType }))).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
    }

    // ---------------------------------------------------------------- "Immediately"

    [Fact]
    public async Task AfterAnEditTheOldValueFailsTheVeryNextLoginAndTheNewValueLogsIn()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var old = await app.KeyValueAsync(org);
        var value = NewValue();

        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = value }))).AssertOk();

        await AssertLoginFailsAsync(org, old);
        await AssertLoginWorksAsync(org, value);
    }

    [Fact]
    public async Task AfterARegenerateTheOldValueFailsTheVeryNextLoginAndTheNewValueLogsIn()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var old = await app.KeyValueAsync(org);

        var key = await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();

        await AssertLoginFailsAsync(org, old);
        await AssertLoginWorksAsync(org, key.GetProperty("keyValue").GetString()!);
    }

    [Fact]
    public async Task AfterADeleteTheOldValueFailsTheVeryNextLogin()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var old = await app.KeyValueAsync(org);

        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/api/v1/apiKeys/{org.KeyId}")).StatusCode);

        await AssertLoginFailsAsync(org, old);
    }

    // ---------------------------------------------------------------- endSessionsOnKeyChange

    [Fact]
    public async Task ByDefaultSessionsSurviveAnEditAndARegenerate()
    {
        var org = await NewOrgAsync();
        var view = await (await app.Provider().GetAsync($"/provider/v1/organizations/{org.Id}")).AssertOk();
        Assert.False(view.GetProperty("endSessionsOnKeyChange").GetBoolean());
        using var session = await app.SessionAsync(org);
        using var other = await app.SessionAsync(org);

        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = NewValue() }))).AssertOk();
        await (await session.GetAsync("/api/v1/auth")).AssertOk();
        await (await other.GetAsync("/api/v1/apiKeys")).AssertOk();

        await (await other.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();
        await (await session.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await other.GetAsync("/api/v1/auth")).AssertOk();
    }

    [Fact]
    public async Task WithEndSessionsOnKeyChangeAnEditEndsSessionsOpenedBeforeItButNotSessionsOpenedAfter()
    {
        var org = await NewOrgAsync();
        await EndSessionsOnKeyChangeAsync(org);
        using var session = await app.SessionAsync(org);
        using var other = await app.SessionAsync(org);

        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = NewValue() }))).AssertOk();

        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await other.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        using var after = await app.SessionAsync(org);
        await (await after.GetAsync("/api/v1/apiKeys")).AssertOk();
        await (await after.GetAsync("/api/v1/auth")).AssertOk();
    }

    [Fact]
    public async Task WithEndSessionsOnKeyChangeARegenerateEndsSessionsOpenedBeforeItButNotSessionsOpenedAfter()
    {
        var org = await NewOrgAsync();
        await EndSessionsOnKeyChangeAsync(org);
        using var session = await app.SessionAsync(org);
        using var other = await app.SessionAsync(org);

        await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", RawJson("{}"))).AssertOk();

        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        await (await other.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        using var after = await app.SessionAsync(org);
        await (await after.GetAsync("/api/v1/apiKeys")).AssertOk();
    }

    // ---------------------------------------------------------------- check order (A4)

    [Fact]
    public async Task AKeyIdOfAnotherOrgGives404ResourceNotFoundAndLeavesThatKeyUnchanged()
    {
        var org = await NewOrgAsync();
        var victim = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        using var victimSession = await app.SessionAsync(victim);
        var victimSandbox = (await AddSandboxAsync(victimSession)).GetProperty("id").GetInt64();
        var before = (await (await victimSession.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk()).GetRawText();
        var cloudValue = await app.KeyValueAsync(victim);

        foreach (var id in new[] { victim.KeyId, victimSandbox })
        {
            await (await session.PutAsync($"/api/v1/apiKeys/{id}", Json(new { keyValue = NewValue() })))
                .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            // 404 comes before the value checks.
            await (await session.PutAsync($"/api/v1/apiKeys/{id}", Json(new { keyValue = "bad" })))
                .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await (await session.PostAsync($"/api/v1/apiKeys/{id}/regenerate", null)).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
            await (await session.DeleteAsync($"/api/v1/apiKeys/{id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        }

        Assert.Equal(before, (await (await victimSession.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk()).GetRawText());
        Assert.Equal(cloudValue, await app.KeyValueAsync(victim));
        await AssertLoginWorksAsync(victim, cloudValue);
        Assert.Single((await (await session.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk()).EnumerateArray());
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1x")]
    [InlineData("9223372036854775808")] // beyond a 64-bit id
    [InlineData("999999999")]           // numeric, but no such key
    [InlineData("0")]
    [InlineData("-1")]
    public async Task ANonNumericOrUnknownKeyIdGives404ResourceNotFound(string id)
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);

        await (await session.PutAsync($"/api/v1/apiKeys/{id}", Json(new { keyValue = NewValue() }))).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await session.PostAsync($"/api/v1/apiKeys/{id}/regenerate", null)).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await session.DeleteAsync($"/api/v1/apiKeys/{id}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task AReadOnlyAdminCanListButGets403AccessDeniedOnAddEditRegenerateAndDelete()
    {
        var org = await NewOrgAsync();
        using var admin = await app.SessionAsync(org);
        var sandbox = (await AddSandboxAsync(admin)).GetProperty("id").GetInt64();
        using var reader = await ReadOnlySessionAsync(org);
        var before = (await (await admin.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk()).GetRawText();

        Assert.Equal(before, (await (await reader.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk()).GetRawText());
        await (await reader.GetAsync("/api/v1/apiKeys")).AssertOk();

        await (await reader.PostAsync("/api/v1/apiKeys", Json(new { keyType = SandboxType }))).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await reader.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = NewValue() }))).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        // 403 comes before the value checks.
        await (await reader.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = "bad" }))).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await reader.PutAsync($"/api/v1/apiKeys/{sandbox}", Json(new { keyValue = NewValue() }))).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        foreach (var id in new[] { org.KeyId, sandbox })
        {
            await (await reader.PostAsync($"/api/v1/apiKeys/{id}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
            await (await reader.DeleteAsync($"/api/v1/apiKeys/{id}")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        }

        Assert.Equal(before, (await (await admin.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk()).GetRawText());
    }

    [Fact]
    public async Task AReadOnlyAdminGets404Not403ForAKeyIdOfAnotherOrg()
    {
        var org = await NewOrgAsync();
        var other = await NewOrgAsync();
        using var reader = await ReadOnlySessionAsync(org);

        await (await reader.PutAsync($"/api/v1/apiKeys/{other.KeyId}", Json(new { keyValue = NewValue() }))).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await reader.PostAsync($"/api/v1/apiKeys/{other.KeyId}/regenerate", null)).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await reader.DeleteAsync($"/api/v1/apiKeys/{other.KeyId}")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
        await (await reader.DeleteAsync("/api/v1/apiKeys/abc")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND");
    }

    [Fact]
    public async Task ASandboxKeyDisabledByTheProviderGives409ApiKeyDisabledOnChangeWhileTheCloudSessionKeepsWorking()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var sandbox = await AddSandboxAsync(session);
        var id = sandbox.GetProperty("id").GetInt64();
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{id}/disable", Json(new { reason = "OTHER", note = "test: disabled by the operator" }))).AssertOk();

        await (await session.PostAsync($"/api/v1/apiKeys/{id}/regenerate", null)).AssertError(HttpStatusCode.Conflict, "API_KEY_DISABLED");
        await (await session.DeleteAsync($"/api/v1/apiKeys/{id}")).AssertError(HttpStatusCode.Conflict, "API_KEY_DISABLED");
        // "the key is disabled" comes before "edit of a sandbox key".
        await (await session.PutAsync($"/api/v1/apiKeys/{id}", Json(new { keyValue = NewValue() }))).AssertError(HttpStatusCode.Conflict, "API_KEY_DISABLED");

        // The Cloud Service session is not affected, and shows the sandbox key as disabled and unchanged.
        await (await session.GetAsync("/api/v1/auth")).AssertOk();
        var keys = await (await session.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk();
        var s = keys.EnumerateArray().Single(k => k.GetProperty("keyType").GetString() == SandboxType);
        Assert.Equal(sandbox.GetProperty("keyValue").GetString(), s.GetProperty("keyValue").GetString());
        Assert.Equal("DISABLED", s.GetProperty("status").GetString());
        Assert.Equal("OTHER", s.GetProperty("disabledReason").GetString());
        Assert.False(s.GetProperty("enabled").GetBoolean());
        var cloud = keys.EnumerateArray().Single(k => k.GetProperty("keyType").GetString() == "CLOUD_SERVICE");
        Assert.Equal("ENABLED", cloud.GetProperty("status").GetString());
        await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();

        // Once enabled again, the same changes go through.
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{id}/enable", null)).AssertOk();
        await (await session.PostAsync($"/api/v1/apiKeys/{id}/regenerate", null)).AssertOk();
        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/api/v1/apiKeys/{id}")).StatusCode);
    }

    /// <summary>
    /// Contract A4 v3: a disabled Cloud Service key freezes every key change of the org, the sandbox key's included.
    /// Through a legacy session the session itself is refused first (A2: 403 API_KEY_DISABLED on every request).
    /// </summary>
    [Fact]
    public async Task ADisabledCloudServiceKeyFreezesTheSandboxKeyToo()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var sandbox = await AddSandboxAsync(session);
        var id = sandbox.GetProperty("id").GetInt64();
        await app.DisableKeyAsync(org);

        await (await session.PostAsync($"/api/v1/apiKeys/{id}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await session.DeleteAsync($"/api/v1/apiKeys/{id}")).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = SandboxType }))).AssertError(HttpStatusCode.Forbidden, "API_KEY_DISABLED");
        Assert.Equal(sandbox.GetProperty("keyValue").GetString(), await app.KeyValueAsync(org, SandboxType));

        // Once the Cloud Service key is enabled again, the sandbox key can be changed.
        await (await app.Provider().PostAsync($"/provider/v1/organizations/{org.Id}/apiKeys/{org.KeyId}/enable", null)).AssertOk();
        await (await session.PostAsync($"/api/v1/apiKeys/{id}/regenerate", null)).AssertOk();
        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/api/v1/apiKeys/{id}")).StatusCode);
    }

    /// <summary>
    /// An expired subscription stops the session itself (A2: 403 SUBSCRIPTION_EXPIRED on every request),
    /// which comes first in the A4 order. So the 409 SUBSCRIPTION_EXPIRED of A4 cannot be met through a legacy
    /// session at all; per the contract's note it is reachable only in the portal (for the Cloud Service key
    /// as well as the sandbox key), and is not tested here.
    /// </summary>
    [Fact]
    public async Task AnExpiredSubscriptionRefusesTheSessionWith403SubscriptionExpiredUntilRenewal()
    {
        var now = app.Clock.GetUtcNow().ToUnixTimeSeconds();
        var org = await NewOrgAsync(expiresAt: now + 600);
        using var session = await app.SessionAsync(org);
        var sandbox = (await AddSandboxAsync(session)).GetProperty("id").GetInt64();
        var value = await app.KeyValueAsync(org);

        app.Clock.Advance(TimeSpan.FromSeconds(600)); // expired iff now >= expiresAt

        await (await session.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        await (await session.GetAsync("/api/v1/auth")).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        await (await session.PostAsync($"/api/v1/apiKeys/{sandbox}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        await (await session.DeleteAsync($"/api/v1/apiKeys/{sandbox}")).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = NewValue() }))).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");
        await (await app.LoginAsync(org.Username, org.Password, value)).AssertError(HttpStatusCode.Forbidden, "SUBSCRIPTION_EXPIRED");

        // The session survives, and works again after a renewal, with the key exactly as before.
        await (await app.Provider().PutAsync($"/provider/v1/organizations/{org.Id}/subscription",
            Json(new { enabled = true, expiresAt = now + 86_400 }))).AssertOk();
        var keys = await (await session.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk();
        Assert.Equal(2, keys.GetArrayLength());
        Assert.Equal(value, await app.KeyValueAsync(org));
    }

    // ---------------------------------------------------------------- compatibility routes

    [Fact]
    public async Task EcAdminActivateStatusRoutesAnswer200EditsClearedAndCacActvSuccess()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();

        foreach (var r in new[]
        {
            await session.GetAsync("/api/v1/ecAdminActivateStatus"),
            await session.PutAsync("/api/v1/ecAdminActivateStatus/activate", null),
            await session.PutAsync("/api/v1/ecAdminActivateStatus/forcedActivate", null),
            await session.PutAsync("/api/v1/ecAdminActivateStatus/activate", RawJson("{}")),
        })
        {
            var body = await r.AssertOk();
            Assert.Equal("EDITS_CLEARED", body.GetProperty("orgEditStatus").GetString());
            Assert.Equal("CAC_ACTV_SUCCESS", body.GetProperty("orgLastActivateStatus").GetString());
        }
    }

    [Fact]
    public async Task KeyAndActivateRoutesWithoutASessionGive401SessionNotValid()
    {
        var org = await NewOrgAsync();
        using var none = app.Client();
        using var bogus = app.SessionClient("0123456789abcdef0123456789abcdef");

        foreach (var c in new[] { none, bogus })
        {
            await (await c.GetAsync("/api/v1/ecAdminActivateStatus")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
            await (await c.PutAsync("/api/v1/ecAdminActivateStatus/activate", null)).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
            await (await c.PutAsync("/api/v1/ecAdminActivateStatus/forcedActivate", null)).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
            await (await c.GetAsync("/api/v1/apiKeys")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
            await (await c.PostAsync("/api/v1/apiKeys", Json(new { keyType = SandboxType }))).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
            await (await c.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = NewValue() }))).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
            await (await c.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
            await (await c.DeleteAsync($"/api/v1/apiKeys/{org.KeyId}")).AssertError(HttpStatusCode.Unauthorized, "SESSION_NOT_VALID");
        }
        await AssertLoginWorksAsync(org, await app.KeyValueAsync(org));
    }

    // ---------------------------------------------------------------- bad inputs

    [Theory]
    [InlineData("{\"keyValue\":")]
    [InlineData("{keyValue:'AbCdEfGh1234'}")]
    [InlineData("not json")]
    [InlineData("{\"keyValue\":\"AbCdEfGh1234\"} trailing")]
    public async Task MalformedJsonOnEditGives400InvalidInputArgumentWithCodeAndMessage(string body)
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);

        var error = await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", RawJson(body)))
            .AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        Assert.Equal(["code", "message"], error.EnumerateObject().Select(p => p.Name).Order().ToArray());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task ATextPlainBodyGives415UnsupportedMediaType()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var before = await app.KeyValueAsync(org);

        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", new StringContent("""{"keyValue":"AbCdEfGh1234"}""", Encoding.UTF8, "text/plain")))
            .AssertError(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        await (await session.PostAsync("/api/v1/apiKeys", new StringContent("""{"keyType":"SANDBOX_SUBMISSION"}""", Encoding.UTF8, "text/plain")))
            .AssertError(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", new StringContent("{}", Encoding.UTF8, "text/plain")))
            .AssertError(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");

        Assert.Equal(before, await app.KeyValueAsync(org));
        Assert.Empty((await (await session.GetAsync("/api/v1/apiKeys?keyType=SANDBOX_SUBMISSION")).AssertOk()).EnumerateArray());
    }

    [Fact]
    public async Task A2MbJsonBodyGives413Never500()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var before = await app.KeyValueAsync(org);
        var pad = new string('a', 2 * 1024 * 1024);

        foreach (var (method, path, body) in new[]
        {
            (HttpMethod.Put, $"/api/v1/apiKeys/{org.KeyId}", $$"""{"keyValue":"{{NewValue()}}","pad":"{{pad}}"}"""),
            (HttpMethod.Post, "/api/v1/apiKeys", $$"""{"keyType":"SANDBOX_SUBMISSION","pad":"{{pad}}"}"""),
            (HttpMethod.Post, $"/api/v1/apiKeys/{org.KeyId}/regenerate", $$"""{"pad":"{{pad}}"}"""),
        })
        {
            var r = await session.SendAsync(new HttpRequestMessage(method, path) { Content = RawJson(body) });
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{method} {path}: expected 413, got {(int)r.StatusCode}: {text}");
            var error = JsonDocument.Parse(text).RootElement;
            Assert.False(string.IsNullOrEmpty(error.GetProperty("code").GetString()));
            Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        }

        // The same without a Content-Length (chunked): the limit holds while reading.
        var chunked = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/apiKeys/{org.KeyId}")
        {
            Content = new ChunkedJson($$"""{"keyValue":"{{NewValue()}}","pad":"{{pad}}"}"""),
        };
        chunked.Headers.TransferEncodingChunked = true;
        var c = await session.SendAsync(chunked);
        var ctext = await c.Content.ReadAsStringAsync();
        Assert.True(c.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"chunked: expected 413, got {(int)c.StatusCode}: {ctext}");

        Assert.Equal(before, await app.KeyValueAsync(org));
        await (await session.GetAsync("/api/v1/auth")).AssertOk();
    }

    /// <summary>A JSON body of unknown length, so the client sends it chunked.</summary>
    private sealed class ChunkedJson : HttpContent
    {
        private readonly byte[] _bytes;
        public ChunkedJson(string body)
        {
            _bytes = Encoding.UTF8.GetBytes(body);
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(_bytes).AsTask();
        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [Theory]
    [InlineData("""{"keyType":"BOGUS"}""")]
    [InlineData("""{"keyType":"ALL"}""")]
    [InlineData("""{"keyType":7}""")]
    [InlineData("""["SANDBOX_SUBMISSION"]""")]
    public async Task AddWithAnUnknownKeyTypeGives400InvalidInputArgument(string body)
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);

        await (await session.PostAsync("/api/v1/apiKeys", RawJson(body))).AssertError(HttpStatusCode.BadRequest, "INVALID_INPUT_ARGUMENT");
        Assert.Single((await (await session.GetAsync("/api/v1/apiKeys?keyType=ALL")).AssertOk()).EnumerateArray());
    }

    [Fact]
    public async Task UnknownFieldsAreIgnoredOnLegacyKeyRoutes()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);

        await (await session.PostAsync("/api/v1/apiKeys", RawJson("""{"keyType":"SANDBOX_SUBMISSION","partnerUrl":"x","extra":{"a":[1,2]}}""")))
            .AssertOk(HttpStatusCode.Created);
        var value = NewValue();
        var edited = await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", RawJson($$"""{"keyValue":"{{value}}","id":1,"keyType":"SANDBOX_SUBMISSION","foo":true}""")))
            .AssertOk();
        Assert.Equal(value, edited.GetProperty("keyValue").GetString());
        Assert.Equal(org.KeyId, edited.GetProperty("id").GetInt64());
        Assert.Equal("CLOUD_SERVICE", edited.GetProperty("keyType").GetString());
        await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", RawJson("""{"keyValue":"AbCdEfGh1234","unknown":null}"""))).AssertOk();
        await (await session.PutAsync("/api/v1/ecAdminActivateStatus/activate", RawJson("""{"anything":1}"""))).AssertOk();
    }

    // ---------------------------------------------------------------- audit

    [Fact]
    public async Task EveryChangeAppearsInTheAuditLogWithItsActionSuccessAndTheKeyId()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);

        var sandbox = (await AddSandboxAsync(session)).GetProperty("id").GetInt64();
        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = NewValue() }))).AssertOk();
        await (await session.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertOk();
        await (await session.PostAsync($"/api/v1/apiKeys/{sandbox}/regenerate", null)).AssertOk();
        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/api/v1/apiKeys/{sandbox}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/api/v1/apiKeys/{org.KeyId}")).StatusCode);

        var (items, _) = await AuditAsync(org.Id);
        var changes = items.Where(i => i.GetProperty("action").GetString()!.StartsWith("key.", StringComparison.Ordinal)
                                        && i.GetProperty("action").GetString() != "key.provision")
            .Select(i => (Action: i.GetProperty("action").GetString(), Outcome: i.GetProperty("outcome").GetString(),
                KeyId: i.GetProperty("keyId").ValueKind == JsonValueKind.Null ? (long?)null : i.GetProperty("keyId").GetInt64()))
            .ToArray();
        Assert.Equal(
        [
            ("key.add", "SUCCESS", sandbox), ("key.edit", "SUCCESS", org.KeyId), ("key.regenerate", "SUCCESS", org.KeyId),
            ("key.regenerate", "SUCCESS", sandbox), ("key.delete", "SUCCESS", sandbox), ("key.delete", "SUCCESS", org.KeyId),
        ], changes.Select(c => (c.Action, c.Outcome, c.KeyId ?? -1)).ToArray());
        foreach (var i in items.Where(i => i.GetProperty("action").GetString()!.StartsWith("key.", StringComparison.Ordinal)))
        {
            Assert.True(i.GetProperty("id").GetInt64() > 0);
            Assert.True(i.GetProperty("time").GetInt64() > 0);
            Assert.False(string.IsNullOrEmpty(i.GetProperty("actor").GetString()));
        }
    }

    [Fact]
    public async Task ARefusedChangeAppearsInTheAuditLogWithItsErrorCodeAsOutcome()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var current = await app.KeyValueAsync(org);
        var sandbox = (await AddSandboxAsync(session)).GetProperty("id").GetInt64();
        using var reader = await ReadOnlySessionAsync(org);

        await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = SandboxType }))).AssertError(HttpStatusCode.Conflict, "KEY_ALREADY_EXISTS");
        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = "short" }))).AssertError(HttpStatusCode.BadRequest, "INVALID_KEY_VALUE");
        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = current }))).AssertError(HttpStatusCode.Conflict, "KEY_VALUE_UNCHANGED");
        await (await session.PutAsync($"/api/v1/apiKeys/{sandbox}", Json(new { keyValue = NewValue() }))).AssertError(HttpStatusCode.Conflict, "KEY_NOT_EDITABLE");
        await (await reader.PostAsync($"/api/v1/apiKeys/{org.KeyId}/regenerate", null)).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");
        await (await reader.DeleteAsync($"/api/v1/apiKeys/{sandbox}")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED");

        var (items, _) = await AuditAsync(org.Id);
        bool Has(string action, string outcome, long? keyId) => items.Any(i =>
            i.GetProperty("action").GetString() == action && i.GetProperty("outcome").GetString() == outcome
            && (keyId is null || (i.GetProperty("keyId").ValueKind == JsonValueKind.Number && i.GetProperty("keyId").GetInt64() == keyId)));
        Assert.True(Has("key.add", "KEY_ALREADY_EXISTS", null), "the refused add is not audited");
        Assert.True(Has("key.edit", "INVALID_KEY_VALUE", org.KeyId), "the refused edit (invalid value) is not audited");
        Assert.True(Has("key.edit", "KEY_VALUE_UNCHANGED", org.KeyId), "the refused edit (unchanged) is not audited");
        Assert.True(Has("key.edit", "KEY_NOT_EDITABLE", sandbox), "the refused edit (sandbox) is not audited");
        Assert.True(Has("key.regenerate", "ACCESS_DENIED", org.KeyId), "the refused regenerate is not audited");
        Assert.True(Has("key.delete", "ACCESS_DENIED", sandbox), "the refused delete is not audited");
        Assert.DoesNotContain(items, i => i.GetProperty("action").GetString() == "key.edit" && i.GetProperty("outcome").GetString() == "SUCCESS");
    }

    [Fact]
    public async Task NoAuditItemContainsAKeyValue()
    {
        var org = await NewOrgAsync();
        using var session = await app.SessionAsync(org);
        var values = new List<string> { await app.KeyValueAsync(org) };

        var sandbox = await AddSandboxAsync(session);
        values.Add(sandbox.GetProperty("keyValue").GetString()!);
        var edited = NewValue();
        values.Add(edited);
        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = edited }))).AssertOk();
        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = edited }))).AssertError(HttpStatusCode.Conflict, "KEY_VALUE_UNCHANGED");
        var attempted = NewValue()[..11];
        values.Add(attempted);
        await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Json(new { keyValue = attempted }))).AssertError(HttpStatusCode.BadRequest, "INVALID_KEY_VALUE");
        foreach (var id in new[] { org.KeyId, sandbox.GetProperty("id").GetInt64() })
            values.Add((await (await session.PostAsync($"/api/v1/apiKeys/{id}/regenerate", null)).AssertOk()).GetProperty("keyValue").GetString()!);
        await AssertLoginFailsAsync(org, edited);
        await (await app.LoginAsync(org.Username, org.Password, values[^2])).AssertOk();
        await app.Service<AuditWriter>().FlushAsync();

        var (items, raw) = await AuditAsync(org.Id);
        Assert.Contains(items, i => i.GetProperty("action").GetString() == "key.regenerate");
        foreach (var v in values)
            Assert.DoesNotContain(v, raw, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- helpers

    private async Task<TestOrg> NewOrgAsync(long? expiresAt = null)
    {
        var org = await app.CreateOrgAsync(expiresAt: expiresAt);
        await app.RaiseLimitsAsync(org.Id);
        return org;
    }

    private static string NewValue() => RandomNumberGenerator.GetString(Alphanumerics, 12);

    private static async Task<JsonElement> AddSandboxAsync(HttpClient session) =>
        await (await session.PostAsync("/api/v1/apiKeys", Json(new { keyType = SandboxType }))).AssertOk(HttpStatusCode.Created);

    private async Task AssertLoginFailsAsync(TestOrg org, string value) =>
        await (await app.LoginAsync(org.Username, org.Password, value)).AssertError(HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");

    private async Task AssertLoginWorksAsync(TestOrg org, string value)
    {
        var r = await app.LoginAsync(org.Username, org.Password, value);
        await r.AssertOk();
        Assert.NotNull(SessionIdOf(r));
    }

    private async Task EndSessionsOnKeyChangeAsync(TestOrg org)
    {
        using var provider = app.Provider();
        var view = await (await provider.PatchAsync($"/provider/v1/organizations/{org.Id}", Json(new { endSessionsOnKeyChange = true }))).AssertOk();
        Assert.True(view.GetProperty("endSessionsOnKeyChange").GetBoolean());
    }

    private async Task<HttpClient> ReadOnlySessionAsync(TestOrg org)
    {
        var username = Unique("reader");
        using var provider = app.Provider();
        await (await provider.PostAsync($"/provider/v1/organizations/{org.Id}/admins",
            Json(new { username, password = Password, role = "READ_ONLY" }))).AssertOk(HttpStatusCode.Created);
        var r = await app.LoginAsync(username, Password, await app.KeyValueAsync(org));
        await r.AssertOk();
        return app.SessionClient(SessionIdOf(r)!);
    }

    /// <summary>The org's whole audit log through the provider API, and the raw pages for secret scans.</summary>
    private async Task<(List<JsonElement> Items, string Raw)> AuditAsync(long orgId)
    {
        using var provider = app.Provider();
        var items = new List<JsonElement>();
        var raw = new StringBuilder();
        string? after = null;
        do
        {
            var r = await provider.GetAsync($"/provider/v1/organizations/{orgId}/audit?limit=100" + (after is null ? "" : $"&after={after}"));
            var page = await r.AssertOk();
            raw.Append(page.GetRawText());
            items.AddRange(page.GetProperty("items").EnumerateArray());
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        } while (after is not null);
        return (items, raw.ToString());
    }
}
