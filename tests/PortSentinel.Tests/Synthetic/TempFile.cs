namespace PortSentinel.Tests.Synthetic;

/// <summary>A unique path under the temporary directory, deleted on dispose (test classes run in parallel).</summary>
public sealed class TempFile : IDisposable
{
    public TempFile(string suffix = ".pcap")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ps-synthetic-{Guid.NewGuid():N}{suffix}");
    }

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}
