namespace Keygate.Tests;

/// <summary>deploy/prometheus/keygate-rules.yml is valid, and each alert fires (and stays quiet) as its unit tests say.</summary>
public sealed class AlertRuleTests
{
    private static readonly string Folder = Path.Combine(NodeProcess.RepoRoot, "deploy", "prometheus");

    [Fact]
    public async Task TheAlertRulesAreValidAndPassTheirPromtoolUnitTests()
    {
        var (checkStatus, checkOutput) = await MetricsTests.PromtoolAsync(["check", "rules", "keygate-rules.yml"], workingDirectory: Folder);
        Assert.True(checkStatus == 0, checkOutput);
        var (status, output) = await MetricsTests.PromtoolAsync(["test", "rules", "keygate-rules.test.yml"], workingDirectory: Folder);
        Assert.True(status == 0, output);
    }

    [Fact]
    public void EveryAlertHasAUnitTest()
    {
        var rules = File.ReadAllText(Path.Combine(Folder, "keygate-rules.yml"));
        var tests = File.ReadAllText(Path.Combine(Folder, "keygate-rules.test.yml"));
        var alerts = System.Text.RegularExpressions.Regex.Matches(rules, @"alert: (\w+)").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(7, alerts.Count);
        Assert.All(alerts, a => Assert.Contains("alertname: " + a, tests));
    }
}
