namespace Keygate.Kernel;

public static class Clock
{
    /// <summary>Epoch milliseconds, the unit every stored time uses.</summary>
    public static long Now(this TimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds();
}
