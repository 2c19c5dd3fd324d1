// The load benchmark's baseline: a bare ASP.NET Core app with Keygate's legacy route shape that answers fixed
// JSON of the same size, so the ratio Keygate / baseline measured in one run is Keygate's own cost.
using Keygate.Baseline;

var app = WebApplication.CreateBuilder(args).Build();

app.MapGet("/api/v1/apiKeys", () => TypedResults.Ok(FixedBodies.Keys));
app.MapGet("/api/v1/auth", () => TypedResults.Ok(FixedBodies.Login));
app.MapPost("/api/v1/auth", async (HttpContext http) =>
{
    // Read the body like a real login would, then answer without any check.
    await http.Request.ReadFromJsonAsync<System.Text.Json.JsonElement>();
    http.Response.Headers.Append("Set-Cookie", FixedBodies.Cookie);
    return TypedResults.Ok(FixedBodies.Login);
});
// The bytes this process allocated so far: HotPathAllocationTests compares Keygate's bytes per call with these routes'
// (Keygate shows the same counter in /metrics). The load never calls it.
app.MapGet("/_bench/allocated", () => GC.GetTotalAllocatedBytes().ToString(System.Globalization.CultureInfo.InvariantCulture));

app.Run();
