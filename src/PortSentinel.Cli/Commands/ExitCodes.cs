namespace PortSentinel.Cli.Commands;

public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A file to read is missing, unreadable or not a capture.</summary>
    public const int BadInput = 1;

    /// <summary>The configuration is invalid; the message names the key.</summary>
    public const int BadConfiguration = 2;

    /// <summary>
    /// A capture is damaged or cut short: what came before the damage was analysed and reported, and
    /// a warning names the file, the packets read and the byte offset of the damage.
    /// </summary>
    public const int Truncated = 3;
}
