using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// In-process, so the benchmarks need no second build and no network; "--quick" trades precision for time.
var quick = args.Contains("--quick");
var job = (quick ? Job.ShortRun : Job.Default).WithToolchain(InProcessEmitToolchain.Instance);
var config = DefaultConfig.Instance.AddJob(job).WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Keygate.Bench.HotPathBenchmarks).Assembly)
    .Run(args.Where(a => a != "--quick").ToArray(), config);
