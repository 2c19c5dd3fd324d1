using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using static Keygate.Tests.Scenario;

namespace Keygate.Tests;

/// <summary>
/// Concurrent key changes against one node, the way an org's admins and its provider make them: regenerate and
/// edit the Cloud Service key, delete and add or regenerate the sandbox key (legacy API), disable and enable the
/// Cloud Service key (provider API). It counts the changes that returned, by audit action. Every answer must be
/// a success or a refusal the contract allows; once <see cref="Killing"/> is called, a request that fails because
/// the node is gone ends its worker.
/// </summary>
public sealed class ChangeStream
{
    private readonly ConcurrentDictionary<string, int> _returned = new();
    private readonly HttpClient _session;
    private readonly HttpClient _provider;
    private readonly TestOrg _org;
    private Task _workers = Task.CompletedTask;
    private volatile bool _killing;

    private ChangeStream(HttpClient session, HttpClient provider, TestOrg org) => (_session, _provider, _org) = (session, provider, org);

    /// <summary>Successful changes that returned to their client, by audit action.</summary>
    public IReadOnlyDictionary<string, int> Returned => _returned;

    /// <summary>One worker switches the key off and on (so no disable is a no-op); the others change values.</summary>
    public static ChangeStream Start(HttpClient session, HttpClient provider, TestOrg org, int valueWorkers = 3)
    {
        var s = new ChangeStream(session, provider, org);
        s._workers = Task.WhenAll(Enumerable.Range(0, valueWorkers).Select(_ => Task.Run(() => s.RunAsync(s.ChangeValueAsync)))
            .Append(Task.Run(() => s.RunAsync(s.DisableAndEnableAsync))));
        return s;
    }

    /// <summary>Waits (at most a minute) until a few changes have returned: a node just started is slow at first.</summary>
    public async Task FlowingAsync(int changes = 5)
    {
        for (var i = 0; i < 600 && _returned.Values.Sum() < changes && !_workers.IsCompleted; i++) await Task.Delay(100);
        if (_workers.IsFaulted) await _workers;
        Assert.True(_returned.Values.Sum() >= changes, $"the stream did not get going: {_returned.Values.Sum()} changes returned");
    }

    public void Killing() => _killing = true;

    /// <summary>Waits for every worker; a wrong answer, or a failure before the kill, fails here.</summary>
    public Task EndAsync() => _workers;

    private async Task RunAsync(Func<Task> step)
    {
        while (true)
        {
            try { await step(); }
            catch (Exception e) when (_killing && NodeProcess.IsNoAnswer(e)) { return; }
        }
    }

    private async Task ChangeValueAsync()
    {
        var cloud = $"/api/v1/apiKeys/{_org.KeyId}";
        switch (Random.Shared.Next(4))
        {
            case 0:
                await ExpectAsync(_session.PostAsync(cloud + "/regenerate", null), "key.regenerate", HttpStatusCode.OK);
                break;
            case 1:
                await ExpectAsync(_session.PutAsync(cloud, Json(new { keyValue = NewKeyValue() })),
                    "key.edit", HttpStatusCode.OK);
                break;
            case 2:
                if (await SandboxIdAsync() is { } id)
                    await ExpectAsync(_session.DeleteAsync($"/api/v1/apiKeys/{id}"), "key.delete", HttpStatusCode.NoContent);
                await ExpectAsync(_session.PostAsync("/api/v1/apiKeys", Json(new { keyType = "SANDBOX_SUBMISSION" })), "key.add", HttpStatusCode.Created);
                break;
            default:
                if (await SandboxIdAsync() is { } sandbox)
                    await ExpectAsync(_session.PostAsync($"/api/v1/apiKeys/{sandbox}/regenerate", null), "key.regenerate", HttpStatusCode.OK);
                break;
        }
    }

    private async Task DisableAndEnableAsync()
    {
        var key = $"/provider/v1/organizations/{_org.Id}/apiKeys/{_org.KeyId}";
        await ExpectAsync(_provider.PostAsync(key + "/disable", Json(new { reason = "OTHER", note = "fault test" })), "key.disable", HttpStatusCode.OK);
        await ExpectAsync(_provider.PostAsync(key + "/enable", null), "key.enable", HttpStatusCode.OK);
        await Task.Delay(Random.Shared.Next(20, 100)); // leave the value changes some time with the key enabled
    }

    private async Task<long?> SandboxIdAsync()
    {
        var r = await _session.GetAsync("/api/v1/apiKeys?keyType=SANDBOX_SUBMISSION");
        if (r.StatusCode != HttpStatusCode.OK) { await AssertRefusal(r); return null; }
        return (await r.JsonAsync()).EnumerateArray().Select(k => (long?)k.GetProperty("id").GetInt64()).FirstOrDefault();
    }

    private async Task ExpectAsync(Task<HttpResponseMessage> request, string action, HttpStatusCode success)
    {
        var r = await request;
        if (r.StatusCode == success) _returned.AddOrUpdate(action, 1, (_, n) => n + 1);
        else await AssertRefusal(r);
    }

    /// <summary>
    /// The refusals a racing stream meets (contract A2/A4): while the provider has the key disabled the session is
    /// refused (403), or the change is when the disable came after the session check (409); two workers may race
    /// for the same sandbox key. Anything else (a 500 above all) is a failure.
    /// </summary>
    private static async Task AssertRefusal(HttpResponseMessage r)
    {
        var body = await r.Content.ReadAsStringAsync();
        var code = JsonDocument.Parse(body).RootElement.GetProperty("code").GetString();
        var allowed = ((int)r.StatusCode, code) is (403, "API_KEY_DISABLED") or (409, "API_KEY_DISABLED")
            or (404, "RESOURCE_NOT_FOUND") or (409, "KEY_ALREADY_EXISTS");
        Assert.True(allowed, $"unexpected {(int)r.StatusCode} in the change stream: {body}");
    }
}
