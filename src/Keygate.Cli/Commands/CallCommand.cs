using System.CommandLine;
using System.Text.Json;

namespace Keygate.Cli.Commands;

/// <summary>
/// keygate call METHOD PATH: any request of the provider's API through Keygate's gateway on the stored session, so an
/// admin can try the API without writing code. The body (JSON) comes from a file or stdin, never from the command line.
/// </summary>
public static class CallCommand
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public static Command Create(Cli cli)
    {
        var method = new Argument<string>("method") { Description = "GET, POST, PUT, PATCH or DELETE" };
        method.AcceptOnlyFromAmong(Methods.Concat(Methods.Select(m => m.ToLowerInvariant())).ToArray());
        var path = new Argument<string>("path") { Description = "The path and query, e.g. /api/v1/ecgroup or /api/v1/provUrl?search=x" };
        var data = new Option<string?>("--data", "-d") { Description = "A file holding the JSON body, or - for stdin" };
        var cmd = cli.Command("call", "Call any route of the API through the gateway on the stored session and print the answer.",
            "keygate call GET /api/v1/ecgroup", "keygate call POST /api/v1/provUrl --data provurl.json",
            "echo '{\"name\":\"x\"}' | keygate call PUT /api/v1/provUrl/7 --data -");
        cmd.Arguments.Add(method);
        cmd.Arguments.Add(path);
        cmd.Options.Add(data);
        cmd.SetAction(async (pr, ct) =>
        {
            var target = pr.GetValue(path)!;
            if (!target.StartsWith('/') || target.StartsWith("//"))
                throw new CliException(ExitCodes.Usage, $"The path must start with / and stay on the logged-in server, e.g. /api/v1/ecgroup.");
            var body = pr.GetValue(data) switch
            {
                null => null,
                "-" => await cli.Env.In.ReadToEndAsync(ct),
                var file when File.Exists(file) => await File.ReadAllTextAsync(file, ct),
                var file => throw new CliException(ExitCodes.Usage, $"No file '{file}'; give --data a file or - for stdin."),
            };
            var output = cli.Output(pr);
            var verb = new HttpMethod(pr.GetValue(method)!.ToUpperInvariant());
            var response = await cli.OnSessionAsync((c, _) => c.SendJsonAsync(verb, target, body, ct));
            output.Raw(output.Json ? response.Body : Pretty(response.Body));
            return ExitCodes.Success;
        });
        return cmd;
    }

    /// <summary>JSON indented for reading; anything else as it came.</summary>
    public static string Pretty(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return JsonSerializer.Serialize(doc.RootElement, new JsonSerializerOptions { WriteIndented = true });
        }
        catch (JsonException)
        {
            return body;
        }
    }
}
