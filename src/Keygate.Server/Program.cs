using Keygate.Accounts;
using Keygate.Organizations;
using Keygate.Audit;
using Keygate.Cluster;
using Keygate.Data;
using Keygate.Gateway;
using Keygate.Hosting;
using Keygate.Kernel;
using Keygate.Keys;
using Keygate.LegacyApi;
using Keygate.Metering;
using Keygate.Ops;
using Keygate.Portal;
using Keygate.ProviderApi;
using Keygate.Sandbox;
using Keygate.Secrets;
using Keygate.Sessions;
using Keygate.Webhooks;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

// "--demo" seeds the Acme Corp organization (see README). It is taken out before the configuration
// parser sees it, which would otherwise read the next argument as its value.
var demo = args.Contains("--demo");
var builder = WebApplication.CreateBuilder(args.Where(a => a != "--demo").ToArray());
if (demo) builder.Configuration["Keygate:Demo:Enabled"] = "true";

var config = builder.Configuration.GetSection("Keygate");
builder.Services.Configure<KeygateOptions>(config);
var keygate = config.Get<KeygateOptions>() ?? new();

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddKeygateDatabase(builder.Configuration, builder.Environment);
builder.Services.AddSingleton(sp => KeyVault.Create(sp.GetRequiredService<IOptions<KeygateOptions>>(), builder.Environment));
builder.Services.AddSingleton<OrgStateCache>();
builder.Services.AddSingleton<SessionStore>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<SessionStore>());
builder.Services.AddSingleton<AuditWriter>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<AuditWriter>());
builder.Services.AddSingleton<Passwords>();
builder.Services.AddSingleton<LoginThrottle>();
builder.Services.AddSingleton<Threshold>();
builder.Services.AddSingleton<SessionGate>();
builder.Services.AddKeygateTelemetry(builder.Configuration, keygate);
builder.Services.AddScoped<KeyLifecycle>();
builder.Services.AddScoped<AdminDirectory>();
builder.Services.AddScoped<OwnPasswordChange>();
builder.Services.AddScoped<SessionEnding>();
builder.Services.AddScoped<AccountChanges>();
builder.Services.AddScoped<TokenChanges>();
builder.Services.AddScoped<OrgDeletion>();
builder.Services.AddScoped<LegacyCaller>();
builder.Services.AddScoped<ProviderCaller>();
builder.Services.AddSandbox();
builder.Services.AddKeygateErrors();
builder.Services.AddKeygateWebhooks();
builder.Services.AddKeygateCluster(keygate);
builder.Services.AddKeygateMetering(keygate);
builder.Services.AddKeygateGateway(builder.Configuration);
DemoUpstream.AddTo(builder, keygate);
builder.Services.AddKeygateOpenApi();
builder.Services.AddPortal(keygate);
builder.Services.AddKeygateRequests();

var app = builder.Build();

// Fail fast on a missing KEK (PostgreSQL) before anything listens.
app.Services.GetRequiredService<KeyVault>();
await DatabaseSetup.MigrateAsync(app.Services, keygate);
await Bootstrap.RunAsync(app.Services);

app.UseKeygateForwardedHeaders(keygate);
app.UseKeygateHttps(keygate);
app.UseKeygateErrors((PortalHeaders.IsPortalPath, PortalErrorPage.WriteAsync));
app.UseProviderAuthentication();
app.UseDeclaredBodyLimits();
app.UseNoByteOrderMark();
// The portal's own middleware runs for the portal's paths only: a legacy, gateway, provider or ops call never carries
// the portal cookie nor reaches a page, and paid about 7 % of its CPU for them (bench/README.md, issue 18).
app.UsePortalPipeline();

app.MapOps();
app.MapMetrics();
app.MapOpenApi();
app.MapScalarApiReference();
var legacyRoutes = app.MapGroup("").AddEndpointFilter(CrossSiteFilter.Instance).WithTags("Legacy API");
legacyRoutes.MapSandbox();
var legacy = legacyRoutes.MapGroup("").AddEndpointFilter(LegacyRequestFilter.Instance);
legacy.MapLegacyAuth();
legacy.MapLegacyKeys();
legacy.MapLegacyUsage();
legacy.MapLegacyAdmins();
legacy.MapLegacyRoles();
legacy.MapLegacyPassword();
app.MapProviderApi();
app.MapKeygateGateway();
app.MapRazorPages();

Bootstrap.PrintWelcome(app);
app.Run();
