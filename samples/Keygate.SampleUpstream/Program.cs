namespace Keygate.SampleUpstream;

// Not top-level statements: the server has the global Program, and the test project references both.
public static class Program
{
    public static void Main(string[] args) => SampleUpstreamApp.Build(args).Run();
}
