namespace StitchMtls;

/// <summary>
/// Where the core narrates what it does. The cmdlet layer forwards these to PowerShell's Verbose and Warning
/// streams; tests collect them. Implementations must accept calls from any thread.
/// </summary>
public interface IOperationLog
{
    void Verbose(string message);

    void Warning(string message);

    /// <summary>Reports progress of a slow step; <paramref name="percent"/> is -1 when unknown.</summary>
    void Progress(string activity, string status, int percent);
}

/// <summary>A log that drops everything, for callers that do not listen.</summary>
public sealed class NullOperationLog : IOperationLog
{
    public static readonly NullOperationLog Instance = new();

    public void Verbose(string message)
    {
    }

    public void Warning(string message)
    {
    }

    public void Progress(string activity, string status, int percent)
    {
    }
}
