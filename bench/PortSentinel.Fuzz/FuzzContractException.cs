namespace PortSentinel.Fuzz;

/// <summary>A surface broke its documented contract on one input: afl-fuzz records the input as a crash.</summary>
public sealed class FuzzContractException : Exception
{
    public FuzzContractException(string message)
        : base(message)
    {
    }

    public FuzzContractException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public FuzzContractException()
    {
    }
}
