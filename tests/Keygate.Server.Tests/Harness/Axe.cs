using System.Text;
using System.Text.Json;
using Microsoft.Playwright;

namespace Keygate.Tests;

/// <summary>
/// axe-core (the npm package pinned in tests/axe) run on the page as it is, with the WCAG 2.1 A and AA rules.
/// It is evaluated through the DevTools protocol, which the pages' strict CSP does not block, so the pages
/// are checked exactly as they are served.
/// </summary>
public static class Axe
{
    public static readonly string[] Tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

    private static readonly Lazy<string> Source = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "axe", "axe.min.js");
        return File.Exists(path) ? File.ReadAllText(path)
            : throw new FileNotFoundException($"{path} is missing: run scripts/install-test-deps.sh npm (npm ci in tests/axe), then build.");
    });

    /// <summary>Fails with every violation (rule, impact, the elements and axe's summary) found on the page.</summary>
    public static async Task AssertCleanAsync(IPage page, string state)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'")) await page.EvaluateAsync(Source.Value);
        var result = await page.EvaluateAsync<JsonElement>(
            "tags => axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })" +
            ".then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help," +
            " nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary) })))", Tags);
        if (result.GetArrayLength() == 0) return;
        var report = new StringBuilder($"axe found WCAG 2.1 A/AA violations on {page.Url} ({state}, {page.ViewportSize?.Width} px):\n");
        foreach (var v in result.EnumerateArray())
        {
            report.Append($"- {v.GetProperty("id").GetString()} ({v.GetProperty("impact").GetString()}): {v.GetProperty("help").GetString()}\n");
            foreach (var n in v.GetProperty("nodes").EnumerateArray()) report.Append($"    {n.GetString()}\n");
        }
        Assert.Fail(report.ToString());
    }
}
