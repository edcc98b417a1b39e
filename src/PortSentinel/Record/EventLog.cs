using System.Text.Json;
using PortSentinel.Common;
using PortSentinel.Decide;
using PortSentinel.Intel;

namespace PortSentinel.Record;

/// <summary>The JSON-lines event log, bound from the <c>EventLog</c> section; off while <see cref="Path"/> is empty.</summary>
public sealed class EventLogOptions
{
    public const string Section = "EventLog";

    /// <summary>The file; rotated ones are PATH.1 (newest) to PATH.<see cref="Keep"/>.</summary>
    public string Path { get; set; } = "";

    /// <summary>The file is rotated before it would grow past this size.</summary>
    public long MaxBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>How many rotated files are kept.</summary>
    public int Keep { get; set; } = 5;

    public bool Enabled => Path.Length > 0;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        OptionRange.Check(errors, $"{Section}:{nameof(MaxBytes)}", MaxBytes, 4096, 1L << 40, "bytes");
        if (Keep is < 1 or > 100)
        {
            errors.Add($"{Section}:{nameof(Keep)} is {Keep}; give 1–100 rotated files.");
        }
        if (Enabled && System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path)) is { } directory && !Directory.Exists(directory))
        {
            errors.Add($"{Section}:{nameof(Path)} is \"{Path}\", in a directory that does not exist; create {directory} or choose another place.");
        }
        return errors;
    }
}

/// <summary>
/// Writes each detection and ban as one JSON object a line, with Elastic Common Schema names where
/// one exists (<c>@timestamp</c>, <c>event.kind</c>, <c>event.action</c>, <c>source.ip</c>, …) and
/// the rest under <c>portsentinel.*</c>; see docs/event-log.md. It reads the sensor's feed on a task
/// of its own, so a slow disk never delays the sensor: what its queue cannot hold is counted and
/// written as a <c>events-lost</c> line. The file is rotated by size.
/// </summary>
public sealed class EventLog : IDisposable
{
    private readonly EventLogOptions _options;
    private readonly SensorLog _log;
    private readonly string _host = Environment.MachineName;
    private readonly SensorFeed.Subscription _subscription;
    private readonly Task _writer;
    private FileStream? _file;
    private long _lostWritten;

    public EventLog(EventLogOptions options, SensorFeed feed, SensorLog log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(feed);
        _options = options;
        _log = log;
        _subscription = feed.Subscribe(65_536);
        _writer = Task.Run(WriteAsync);
    }

    private async Task WriteAsync()
    {
        var line = new MemoryStream();
        while (await _subscription.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            try
            {
                long lost = _subscription.Lost;
                if (lost > _lostWritten)
                {
                    Append(line, json => WriteLost(json, lost - _lostWritten));
                    _lostWritten = lost;
                }
                while (_subscription.Reader.TryRead(out SensorEvent? e))
                {
                    Append(line, json => Write(json, e));
                }
                _file?.Flush();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _log($"ERROR event log {_options.Path}: {ex.Message}; events are not written until it can be opened again");
                _file?.Dispose();
                _file = null;
            }
        }
        _file?.Dispose();
    }

    /// <summary>Writes one line, rotating first when it would carry the file past MaxBytes.</summary>
    private void Append(MemoryStream line, Action<Utf8JsonWriter> write)
    {
        line.SetLength(0);
        using (var json = new Utf8JsonWriter(line))
        {
            write(json);
        }
        line.WriteByte((byte)'\n');
        _file ??= Open();
        if (_file.Length > 0 && _file.Length + line.Length > _options.MaxBytes)
        {
            _file.Dispose();
            Rotate();
            _file = Open();
        }
        _file.Write(line.GetBuffer(), 0, (int)line.Length);
    }

    private FileStream Open()
    {
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        }
        return new FileStream(_options.Path, options);
    }

    private void Rotate()
    {
        string Numbered(int n) => $"{_options.Path}.{n}";
        File.Delete(Numbered(_options.Keep));
        for (int n = _options.Keep - 1; n >= 1; n--)
        {
            if (File.Exists(Numbered(n)))
            {
                File.Move(Numbered(n), Numbered(n + 1));
            }
        }
        File.Move(_options.Path, Numbered(1));
    }

    private void Write(Utf8JsonWriter json, SensorEvent e)
    {
        json.WriteStartObject();
        json.WriteString("@timestamp", e.At);
        switch (e)
        {
            case AlertEvent alert:
                WriteAlert(json, alert);
                break;
            case BanEvent ban:
                WriteBan(json, ban);
                break;
            case ReputationEvent known:
                WriteReputation(json, known.Reputation);
                break;
        }
        json.WriteStartObject("observer");
        json.WriteString("hostname", _host);
        json.WriteString("type", "ids");
        json.WriteString("vendor", "PortSentinel");
        json.WriteString("product", "PortSentinel");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteAlert(Utf8JsonWriter json, AlertEvent e)
    {
        AlertRecord a = e.Alert;
        StartEvent(json, "alert", ["network", "intrusion_detection"], ["info"], e.Ended ? "scan-ended" : "scan-detected");
        if (a.Severity is { } severity && Enum.TryParse(severity, ignoreCase: true, out Severity level))
        {
            json.WriteNumber("severity", (int)level + 1); // 1 low … 4 critical
        }
        if (a.Reason is { } reason)
        {
            json.WriteString("reason", reason);
        }
        json.WriteString("start", a.First);
        json.WriteString("end", a.Last);
        json.WriteEndObject();
        WriteSource(json, a.Source, e.Reputation);
        if (a.TargetList.Count > 0)
        {
            json.WriteStartObject("destination");
            json.WriteString("ip", a.TargetList[0]);
            json.WriteEndObject();
        }
        json.WriteStartObject("rule");
        json.WriteString("name", string.Join(',', a.Kinds));
        json.WriteEndObject();
        json.WriteStartObject("portsentinel");
        json.WriteNumber("alert_id", a.Id);
        WriteStrings(json, "kinds", a.Kinds);
        if (a.Severity is not null)
        {
            json.WriteString("severity", a.Severity);
        }
        if (a.Action is not null)
        {
            json.WriteString("decision", a.Action);
        }
        json.WriteString("trigger", a.Trigger);
        json.WriteBoolean("verified", a.Verified);
        json.WriteNumber("ports", a.Ports);
        json.WriteString("port_ranges", a.PortRanges);
        json.WriteNumber("targets", a.Targets);
        WriteStrings(json, "target_list", a.TargetList);
        json.WriteNumber("probes", a.Probes);
        if (e.Reputation is { } reputation)
        {
            WriteReputationFields(json, reputation);
        }
        json.WriteEndObject();
    }

    /// <summary>A lookup that completed after its source's alert: an enrichment of that source.</summary>
    private static void WriteReputation(Utf8JsonWriter json, Reputation reputation)
    {
        StartEvent(json, "enrichment", ["threat"], ["indicator"], "reputation");
        json.WriteString("provider", "abuseipdb");
        json.WriteEndObject();
        WriteSource(json, reputation.Address, reputation);
        json.WriteStartObject("portsentinel");
        WriteReputationFields(json, reputation);
        json.WriteEndObject();
    }

    private static void WriteSource(Utf8JsonWriter json, string address, Reputation? reputation)
    {
        json.WriteStartObject("source");
        json.WriteString("ip", address);
        if (reputation?.CountryCode is { } country)
        {
            json.WriteStartObject("geo");
            json.WriteString("country_iso_code", country);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    /// <summary><c>reputation</c> inside <c>portsentinel</c>: what AbuseIPDB said, and when it was asked.</summary>
    private static void WriteReputationFields(Utf8JsonWriter json, Reputation r)
    {
        json.WriteStartObject("reputation");
        json.WriteString("provider", "abuseipdb");
        json.WriteNumber("score", r.Score);
        json.WriteNumber("reports", r.TotalReports);
        if (r.LastReportedAt is { } last)
        {
            json.WriteString("last_reported", last);
        }
        if (r.Isp is { } isp)
        {
            json.WriteString("isp", isp);
        }
        if (r.Domain is { } domain)
        {
            json.WriteString("domain", domain);
        }
        json.WriteString("checked", r.CheckedAt);
        json.WriteEndObject();
    }

    private static void WriteBan(Utf8JsonWriter json, BanEvent e)
    {
        BanRecord b = e.Ban;
        StartEvent(json, "event", ["network"], [e.Lifted ? "end" : "denied"], e.Lifted ? "ban-lifted" : "ban-added");
        if (!e.Lifted)
        {
            json.WriteString("reason", b.Reason);
        }
        json.WriteEndObject();
        if (b.Network.IsHost)
        {
            WriteSource(json, b.Network.Address.ToString(), null);
        }
        json.WriteStartObject("portsentinel");
        json.WriteStartObject("ban");
        json.WriteString("network", b.Network.ToString());
        if (!e.Lifted)
        {
            json.WriteNumber("offence", b.Offence);
            json.WriteBoolean("hold", b.Hold);
            if (b.Expires is { } expires)
            {
                json.WriteString("expires", expires);
            }
            else
            {
                json.WriteNull("expires");
            }
        }
        if (e.By is { } by)
        {
            json.WriteString("by", by);
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private void WriteLost(Utf8JsonWriter json, long count)
    {
        json.WriteStartObject();
        json.WriteString("@timestamp", DateTimeOffset.UtcNow);
        StartEvent(json, "event", [], [], "events-lost");
        json.WriteString("reason", $"{count} events were not written: the event log could not keep up");
        json.WriteEndObject();
        json.WriteStartObject("portsentinel");
        json.WriteNumber("lost", count);
        json.WriteEndObject();
        json.WriteEndObject();
        _log($"WARNING event log: {count} events were not written, it could not keep up");
    }

    /// <summary>Opens <c>event</c> with its ECS kind, categories, types and action (none given: left out), for the caller to add to and close.</summary>
    private static void StartEvent(Utf8JsonWriter json, string kind, string[] categories, string[] types, string action)
    {
        json.WriteStartObject("event");
        json.WriteString("kind", kind);
        if (categories.Length > 0)
        {
            WriteStrings(json, "category", categories);
            WriteStrings(json, "type", types);
        }
        json.WriteString("action", action);
        json.WriteString("module", "portsentinel");
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values)
        {
            json.WriteStringValue(value);
        }
        json.WriteEndArray();
    }

    /// <summary>Stops taking events, writes what is queued, closes the file.</summary>
    public void Dispose()
    {
        _subscription.Dispose();
        _writer.Wait(TimeSpan.FromSeconds(10));
    }
}
