using System.Threading.Channels;
using PortSentinel.Intel;

namespace PortSentinel.Record;

/// <summary>Something the sensor did that a watcher (the dashboard) wants to see at once.</summary>
public abstract record SensorEvent(DateTimeOffset At);

/// <summary>
/// An alert raised (<see cref="Ended"/> false), raised again with a new decision (same id), or
/// completed when its scan ended; <see cref="Reputation"/> is its source's, when known as it was decided.
/// </summary>
public sealed record AlertEvent(DateTimeOffset At, AlertRecord Alert, bool Ended, Reputation? Reputation = null) : SensorEvent(At);

/// <summary>A lookup of a source's reputation completed (after its alert was raised).</summary>
public sealed record ReputationEvent(DateTimeOffset At, Reputation Reputation) : SensorEvent(At);

/// <summary>A ban put in place (<see cref="Lifted"/> false) or lifted; <see cref="By"/> says who lifted it.</summary>
public sealed record BanEvent(DateTimeOffset At, BanRecord Ban, bool Lifted, string? By = null) : SensorEvent(At);

/// <summary>
/// Hands the sensor's events to whoever subscribed, without ever making the sensor wait: each
/// subscriber has a bounded queue of its own, and a subscriber too slow to keep up loses its
/// oldest events (counted in <see cref="Subscription.Lost"/>), never the sensor's time.
/// </summary>
public sealed class SensorFeed
{
    private readonly Lock _gate = new();
    private Subscription[] _subscribers = [];

    /// <summary>Starts receiving events; dispose the subscription to stop.</summary>
    public Subscription Subscribe(int capacity)
    {
        var subscription = new Subscription(this, capacity);
        lock (_gate)
        {
            _subscribers = [.. _subscribers, subscription];
        }
        return subscription;
    }

    public int Subscribers => Volatile.Read(ref _subscribers).Length;

    /// <summary>Offers the event to every subscriber; never blocks.</summary>
    public void Publish(SensorEvent e)
    {
        foreach (Subscription s in Volatile.Read(ref _subscribers))
        {
            s.Offer(e);
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscribers = [.. _subscribers.Where(s => s != subscription)];
        }
    }

    public sealed class Subscription : IDisposable
    {
        private readonly SensorFeed _feed;
        private readonly Channel<SensorEvent> _channel;
        private long _lost;

        internal Subscription(SensorFeed feed, int capacity)
        {
            _feed = feed;
            _channel = Channel.CreateBounded<SensorEvent>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                _ => Interlocked.Increment(ref _lost));
        }

        public ChannelReader<SensorEvent> Reader => _channel.Reader;

        /// <summary>Events dropped because this subscriber's queue was full.</summary>
        public long Lost => Interlocked.Read(ref _lost);

        internal void Offer(SensorEvent e) => _channel.Writer.TryWrite(e);

        public void Dispose()
        {
            _feed.Remove(this);
            _channel.Writer.TryComplete();
        }
    }
}
