using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading.Tasks;
using StitchMtls.TestGateway.Commands;

namespace StitchMtls.TestGateway;

/// <summary>
/// A local stand-in for Stitch's mutual-TLS gateway, the private CA behind it, and a loopback CONNECT proxy to
/// reach it through. One program, five subcommands: <c>pki</c>, <c>sign</c>, <c>issue</c>, <c>serve</c>,
/// <c>proxy</c>. Exit code 0 is success, 2 bad arguments or input (with one line on stderr), 1 anything else.
/// </summary>
internal static class Program
{
    private const string Usage =
        "usage: StitchMtls.TestGateway pki|sign|issue|serve|proxy [options]; "
        + "see tests/StitchMtls.TestGateway/README.md";

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return ExitCode.BadInput;
        }

        string[] options = args[1..];
        try
        {
            return args[0] switch
            {
                PkiCommand.Name => PkiCommand.Run(options),
                SignCommand.Name => SignCommand.Run(options),
                IssueCommand.Name => IssueCommand.Run(options),
                ServeCommand.Name => await ServeCommand.RunAsync(options),
                ProxyCommand.Name => await ProxyCommand.RunAsync(options),
                _ => throw new GatewayInputException($"Unknown command '{args[0]}'. {Usage}"),
            };
        }
        catch (GatewayInputException e)
        {
            Console.Error.WriteLine(OneLine(e.Message));
            return ExitCode.BadInput;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine(OneLine($"{args[0]}: {e.Message}"));
            return ExitCode.Failure;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{args[0]}: unexpected failure: {e}");
            return ExitCode.Failure;
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");
}
