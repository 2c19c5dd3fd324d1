// Seeds a fresh Keygate SQLite database for the scale benchmark, straight into the tables (the provider API
// would hash every admin password and take minutes for 100,000 orgs):
//   Keygate.Seed --db PATH --kek BASE64 --orgs N [--ids-out FILE] [--ids 1000] [--iterations 100000]
// Each org gets an active subscription, raised limits, an admin, an enabled Cloud Service key encrypted under
// the KEK the server will run with, and one live legacy session. The plain ids of --ids sessions, spread
// evenly over the orgs, go to --ids-out for wrk.
using System.Diagnostics;
using Keygate.Seed;

var options = SeedOptions.Parse(args);
var clock = Stopwatch.StartNew();
await Seeder.RunAsync(options);
Console.WriteLine($"seeded {options.Orgs} orgs, admins, keys and live sessions in {clock.Elapsed.TotalSeconds:F1} s");
