using System;

namespace StitchMtls.TestGateway;

/// <summary>
/// Bad arguments or bad input files: the program prints the message on one line and exits with code 2.
/// </summary>
internal sealed class GatewayInputException : Exception
{
    public GatewayInputException(string message)
        : base(message)
    {
    }

    public GatewayInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
