namespace PortSentinel.Capture;

/// <summary>A capture source could not be opened or read; the message says which and why.</summary>
public sealed class CaptureException : Exception
{
    public CaptureException(string message)
        : base(message)
    {
    }

    public CaptureException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public CaptureException()
    {
    }
}
