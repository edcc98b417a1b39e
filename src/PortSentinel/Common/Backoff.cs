namespace PortSentinel.Common;

/// <summary>How long to wait before trying again: <c>first</c> after the first failure in a row, then twice as long each time, up to <c>most</c>.</summary>
public static class Backoff
{
    public static TimeSpan After(int failures, TimeSpan first, TimeSpan most) =>
        TimeSpan.FromTicks(Math.Min(most.Ticks, first.Ticks << Math.Clamp(failures - 1, 0, 20)));
}
