namespace Keygate.Tests;

/// <summary>
/// Tests that start whole processes (Keygate nodes, nginx, the benchmark) and keep both cores busy for a
/// minute: they run alone, after the others, so that neither side starves the other of CPU.
/// </summary>
[CollectionDefinition(nameof(MachineWide), DisableParallelization = true)]
public sealed class MachineWide;
