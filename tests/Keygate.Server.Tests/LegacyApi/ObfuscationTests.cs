using System.Net;

namespace Keygate.Tests;

/// <summary>Contract A1: the obfuscated API key, on the server's implementation, the test-side one, and over HTTP.</summary>
public sealed class ObfuscationTests(KeygateApp app) : IClassFixture<KeygateApp>
{
    public static TheoryData<string, string, string> ContractVectors => new()
    {
        { "AbCdEfGh1234", "1700000123456", "bCdEfGC1d2E3" },
        { "K7m2Q9x4R1p8", "1718049275931", "m491272918R4" },
        { "AbCdEfGh1234", "1700000012345", "AbCdEfCC1d2E" }, // zero padding of L
    };

    [Theory]
    [MemberData(nameof(ContractVectors))]
    public void ServerObfuscateProducesTheContractVector(string key, string ts, string expected) =>
        Assert.Equal(expected, KeyValues.Obfuscate(key, ts));

    [Theory]
    [MemberData(nameof(ContractVectors))]
    public void ServerObfuscatedMatchesAcceptsTheContractVector(string key, string ts, string expected) =>
        Assert.True(KeyValues.ObfuscatedMatches(key, ts, expected));

    [Theory]
    [MemberData(nameof(ContractVectors))]
    public void TestSideObfuscateProducesTheContractVector(string key, string ts, string expected) =>
        Assert.Equal(expected, Scenario.Obfuscate(key, ts));

    [Fact]
    public void ServerAndTestSideObfuscationAgreeOnRandomKeysAndTimestamps()
    {
        var random = new Random(1234);
        for (var i = 0; i < 2000; i++)
        {
            var key = KeyValues.Generate(KeyType.CLOUD_SERVICE);
            var ts = (1_600_000_000_000L + random.NextInt64(0, 400_000_000_000L)).ToString();
            var expected = Scenario.Obfuscate(key, ts);
            Assert.Equal(expected, KeyValues.Obfuscate(key, ts));
            Assert.True(KeyValues.ObfuscatedMatches(key, ts, expected));
        }
    }

    [Theory]
    [InlineData("bCdEfGC1d2E")]    // one character short
    [InlineData("bCdEfGC1d2E3x")]  // one character long, the first twelve right
    [InlineData("")]
    public void ObfuscatedMatchesRejectsAValueOfTheWrongLength(string sent) =>
        Assert.False(KeyValues.ObfuscatedMatches("AbCdEfGh1234", "1700000123456", sent));

    [Theory]
    [InlineData("bCdEfGC1d2EX")]  // last character wrong
    [InlineData("XCdEfGC1d2E3")]  // first character wrong
    [InlineData("bcdEfGC1d2E3")]  // letter case matters
    [InlineData("m491272918R4")]  // the right value for another key and timestamp
    public void ObfuscatedMatchesRejectsWrongCharacters(string sent) =>
        Assert.False(KeyValues.ObfuscatedMatches("AbCdEfGh1234", "1700000123456", sent));

    [Theory]
    [InlineData("17000001234x6")]
    [InlineData("1700000 23456")]
    [InlineData("abcdefghijklm")]
    [InlineData("-12345")]
    [InlineData("12345")]
    [InlineData("")]
    public void ObfuscatedMatchesRejectsATimestampThatIsNotDigits(string ts) =>
        Assert.False(KeyValues.ObfuscatedMatches("AbCdEfGh1234", ts, "bCdEfGC1d2E3"));

    [Fact]
    public void ObfuscatedMatchesAllocatesNothingPerCall()
    {
        var matched = 0;
        for (var i = 0; i < 10_000; i++) matched += Round(); // warm-up (JIT tiers, statics)
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++) matched += Round();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0L, allocated);
        Assert.Equal(110_000 * 2, matched);

        static int Round()
        {
            var n = 0;
            if (KeyValues.ObfuscatedMatches("AbCdEfGh1234", "1700000123456", "bCdEfGC1d2E3")) n++;
            if (KeyValues.ObfuscatedMatches("K7m2Q9x4R1p8", "1718049275931", "m491272918R4")) n++;
            if (KeyValues.ObfuscatedMatches("AbCdEfGh1234", "1700000123456", "bCdEfGC1d2EX")) n++;
            if (KeyValues.ObfuscatedMatches("AbCdEfGh1234", "1700000123456", "bCdEfGC1d2E")) n++;
            if (KeyValues.ObfuscatedMatches("AbCdEfGh1234", "17000001234x6", "bCdEfGC1d2E3")) n++;
            return n;
        }
    }

    /// <summary>
    /// Only the last six digits of the timestamp matter, so a current timestamp ending in the vector's six
    /// digits must be accepted with the vector's exact apiKey, sent literally.
    /// </summary>
    [Fact]
    public async Task ServerAcceptsTheContractVectorsInARealLogin()
    {
        var org = await app.CreateOrgAsync();
        await app.RaiseLimitsAsync(org.Id);
        using var session = await app.SessionAsync(org);
        var current = await app.KeyValueAsync(org);
        foreach (var (key, ts, expected) in new[]
        {
            ("AbCdEfGh1234", "1700000123456", "bCdEfGC1d2E3"),
            ("AbCdEfGh1234", "1700000012345", "AbCdEfCC1d2E"),
            ("K7m2Q9x4R1p8", "1718049275931", "m491272918R4"),
        })
        {
            if (current != key)
            {
                await (await session.PutAsync($"/api/v1/apiKeys/{org.KeyId}", Scenario.Json(new { keyValue = key }))).AssertOk();
                current = key;
            }
            var now = app.NowMs;
            var sent = (now - now % 1_000_000 + long.Parse(ts[^6..])).ToString(); // within 1000 s of now
            using var client = app.Client();
            var r = await client.PostAsync("/api/v1/auth", Scenario.Json(new { apiKey = expected, username = org.Username, password = org.Password, timestamp = sent }));
            await r.AssertOk();
            Assert.NotNull(Scenario.SessionIdOf(r));

            var wrong = await client.PostAsync("/api/v1/auth", Scenario.Json(new { apiKey = expected[..11] + (expected[11] == 'A' ? 'B' : 'A'), username = org.Username, password = org.Password, timestamp = sent }));
            await wrong.AssertError(HttpStatusCode.BadRequest, "AUTHENTICATION_FAILED");
        }
    }
}
