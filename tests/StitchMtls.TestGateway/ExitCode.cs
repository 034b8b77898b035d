namespace StitchMtls.TestGateway;

internal static class ExitCode
{
    public const int Success = 0;

    /// <summary>Something failed that is not the caller's input: a bug or the machine.</summary>
    public const int Failure = 1;

    /// <summary>Bad arguments or bad input; a one-line message went to stderr.</summary>
    public const int BadInput = 2;
}
