using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PortSentinel.Analysis;
using PortSentinel.Capture;
using PortSentinel.Detect;

namespace PortSentinel.Cli.Output;

/// <summary>The JSON forms of detections and analysis results (docs/cli.md lists the fields).</summary>
public static class DetectionJson
{
    public static string Iso(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static string Serialize(Action<Utf8JsonWriter> write, bool indented)
    {
        ArgumentNullException.ThrowIfNull(write);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            write(json);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter json, Detection d)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(d);
        json.WriteStartObject();
        json.WriteString("source", d.Source.ToString());
        json.WriteStartArray("kinds");
        foreach (string kind in ScanKindNames.Names(d.Kinds))
        {
            json.WriteStringValue(kind);
        }
        json.WriteEndArray();
        json.WriteStartArray("targets");
        foreach (var target in d.Targets)
        {
            json.WriteStringValue(target.ToString());
        }
        json.WriteEndArray();
        json.WriteNumber("targetCount", d.TargetCount);
        json.WriteNumber("ports", d.Ports);
        json.WriteString("portRanges", d.PortRanges);
        json.WriteNumber("protocols", d.Protocols);
        json.WriteNumber("probes", d.Probes);
        json.WriteString("first", Iso(d.First));
        json.WriteString("last", Iso(d.Last));
        json.WriteString("trigger", d.Trigger);
        json.WriteNumber("confidence", d.Confidence);
        json.WriteBoolean("verified", d.Verified);
        json.WriteStartObject("outcomes");
        json.WriteNumber("open", d.Outcomes.Open);
        json.WriteNumber("closed", d.Outcomes.Closed);
        json.WriteNumber("unreachable", d.Outcomes.Unreachable);
        json.WriteNumber("unanswered", d.Outcomes.Unanswered);
        json.WriteNumber("dropped", d.Outcomes.Dropped);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void WriteResult(Utf8JsonWriter json, AnalysisResult result)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(result);
        json.WriteStartObject();
        json.WriteNumber("packets", result.Packets);
        json.WriteNumber("malformed", result.Malformed);
        json.WriteStartObject("malformedByReason");
        foreach (var (reason, count) in result.MalformedByReason)
        {
            json.WriteNumber(reason, count);
        }
        json.WriteEndObject();
        json.WriteNumber("elapsedSeconds", Math.Round(result.Elapsed.TotalSeconds, 6));
        json.WriteNumber("packetsPerSecond", Math.Round(result.PacketsPerSecond));
        json.WriteStartArray("detections");
        foreach (Detection d in result.Detections)
        {
            Write(json, d);
        }
        json.WriteEndArray();
        json.WriteStartArray("damaged");
        foreach (SavefileDamage damage in result.Damaged)
        {
            json.WriteStartObject();
            json.WriteString("file", damage.File);
            json.WriteNumber("packets", damage.Packets);
            if (damage.Offset is long offset)
            {
                json.WriteNumber("offset", offset);
            }
            else
            {
                json.WriteNull("offset");
            }
            json.WriteString("reason", damage.Reason);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
