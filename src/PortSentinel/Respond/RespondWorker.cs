using System.Collections.Concurrent;
using System.Diagnostics;
using PortSentinel.Common;
using PortSentinel.Decode;
using PortSentinel.Detect;

namespace PortSentinel.Respond;

/// <summary>
/// The respond thread, the one owner of the firewall and of the responder's state, and the
/// bounded queue that feeds it: detections raised and ended from the captures, commands (manual
/// bans, lookups done) from anywhere, and the jobs it runs every so often. One failed decision or
/// job is logged, and the next one proceeds.
/// </summary>
public sealed class RespondWorker : IDisposable
{
    private const int QueueCapacity = 10_000;

    // Ended scans are recorded in batches: whatever is queued, up to this many, in one transaction.
    private const int RecordBatch = 1000;

    // How long the respond thread, woken ahead of a detection, waits for it awake.
    private static readonly long _awakeFor = Stopwatch.Frequency / 500; // 2 ms

    private readonly record struct Item(Detection? Detection, bool Ended, Action? Command);

    private sealed class Job(TimeSpan every, string what, Action action)
    {
        public TimeSpan Every { get; } = every;
        public string What { get; } = what;
        public Action Action { get; } = action;
        public long Next { get; set; } = Environment.TickCount64 + (long)every.TotalMilliseconds;
    }

    private readonly Responder _responder;
    private readonly SensorLog _log;
    // A blocking queue read by a thread of its own, not a channel read on the thread pool: waking a
    // pool thread cost 7–10 ms per detection here, waking a waiting thread microseconds.
    private readonly BlockingCollection<Item> _queue = new(QueueCapacity);
    private readonly List<Job> _jobs = [];
    private TimeSpan _tick = TimeSpan.FromSeconds(1);
    private Thread? _thread;
    private long _overflow;

    public RespondWorker(Responder responder)
    {
        ArgumentNullException.ThrowIfNull(responder);
        _responder = responder;
        _log = responder.Context.Log;
    }

    /// <summary>Detections that found the queue full and were counted instead of queued.</summary>
    public long Overflow => Interlocked.Read(ref _overflow);

    /// <summary>Runs <paramref name="action"/> on the respond thread every <paramref name="every"/>, the first time after one interval. Before <see cref="Start"/>.</summary>
    public void Every(TimeSpan every, string what, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        _jobs.Add(new Job(every, what, action));
        _tick = _jobs.Min(j => j.Every);
    }

    public void Start(string name = "respond")
    {
        _thread = new Thread(Loop) { Name = name, IsBackground = true };
        _thread.Start();
    }

    /// <summary>A scanner recognised: decide, block, log. Counted as overflow when the queue is full.</summary>
    public void Raised(Detection detection) => Enqueue(new Item(detection, Ended: false, null));

    /// <summary>A scanner raised unverified was verified at its address: decide again if it was only held.</summary>
    public void Verified(Detection detection) =>
        Enqueue(new Item(null, false, () => Guarded(_log, $"deciding again on {detection.Source}", () => _responder.Verified(detection))));

    /// <summary>A scan over: record its evidence.</summary>
    public void Ended(Detection detection) => Enqueue(new Item(detection, Ended: true, null));

    /// <summary>
    /// From a capture thread, as it starts gathering a new scanner's evidence (0.2–0.6 ms under a
    /// scan): the respond thread is woken now, reads the source's offence count and stays awake for
    /// the detection, so that its wake-up and the database read overlap the evidence instead of
    /// following it. Only a head start: when the queue is full it is skipped.
    /// </summary>
    public void GetReadyFor(NetAddress source) =>
        _queue.TryAdd(new Item(null, false, () => Guarded(_log, $"reading the offences of {source}", () =>
        {
            _responder.Context.ReadAhead(source);
            StayAwake();
        })));

    /// <summary>Runs <paramref name="work"/> on the respond thread; fails when the worker is stopped or its queue is full.</summary>
    public Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Command()
        {
            try
            {
                done.SetResult(work());
            }
#pragma warning disable CA1031 // handed to the caller, who reports it
            catch (Exception e)
#pragma warning restore CA1031
            {
                done.SetException(e);
            }
        }
        try
        {
            if (!_queue.TryAdd(new Item(null, false, Command)))
            {
                done.SetException(new InvalidOperationException("the sensor's queue is full; try again in a moment"));
            }
        }
        catch (InvalidOperationException)
        {
            done.SetException(new InvalidOperationException("the sensor is stopping"));
        }
        return done.Task;
    }

    /// <summary>Lets the thread finish what is queued, then waits for it.</summary>
    public void Stop()
    {
        if (!_queue.IsAddingCompleted)
        {
            _queue.CompleteAdding();
        }
        _thread?.Join();
    }

    public void Dispose()
    {
        Stop();
        _queue.Dispose();
    }

    /// <summary>One failed decision, write or job must not stop the worker: it is logged, the next one proceeds.</summary>
    public static void Guarded(SensorLog log, string what, Action action)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            action();
        }
#pragma warning disable CA1031 // logged and carried on, by design
        catch (Exception e)
#pragma warning restore CA1031
        {
            log($"ERROR {what}: {e.Message}");
        }
    }

    private void Enqueue(Item item)
    {
        if (!_queue.TryAdd(item))
        {
            Interlocked.Increment(ref _overflow);
        }
    }

    /// <summary>A short busy wait for the detection a read-ahead was for.</summary>
    private void StayAwake()
    {
        long until = Stopwatch.GetTimestamp() + _awakeFor;
        var spin = new SpinWait();
        while (_queue.Count == 0 && Stopwatch.GetTimestamp() < until)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    private void Loop()
    {
        var ended = new List<(long?, Detection)>();
        while (!_queue.IsCompleted)
        {
            if (_queue.TryTake(out Item item, _tick))
            {
                do
                {
                    if (item.Command is { } command)
                    {
                        command();
                    }
                    else if (item.Ended)
                    {
                        ended.Add(_responder.Ending(item.Detection!));
                    }
                    else
                    {
                        Detection detection = item.Detection!;
                        _responder.ApplyReconfiguration();
                        Guarded(_log, $"deciding on {detection.Source}", () => _responder.Respond(detection));
                    }
                }
                while (ended.Count < RecordBatch && _queue.TryTake(out item));
                if (ended.Count > 0)
                {
                    Guarded(_log, "recording detections", () => _responder.RecordEnded(ended));
                    ended.Clear();
                }
            }
            _responder.ApplyReconfiguration();
            foreach (Job job in _jobs)
            {
                if (Environment.TickCount64 >= job.Next)
                {
                    Guarded(_log, job.What, job.Action);
                    job.Next = Environment.TickCount64 + (long)job.Every.TotalMilliseconds;
                }
            }
        }
    }
}
