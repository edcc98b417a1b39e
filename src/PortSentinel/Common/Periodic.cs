namespace PortSentinel.Common;

/// <summary>
/// Runs some work again and again on a task of its own until disposed: before each turn (counted
/// from 0) it waits as long as <c>wait</c> says. Disposing cancels the wait or the work in progress.
/// </summary>
public sealed class Periodic(Func<int, DateTimeOffset, TimeSpan> wait, Func<CancellationToken, Task> work, TimeProvider time) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public void Start() => _loop ??= Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        try
        {
            for (int turn = 0; !_stop.IsCancellationRequested; turn++)
            {
                await Task.Delay(wait(turn, time.GetUtcNow()), time, _stop.Token).ConfigureAwait(false);
                await work(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
