using System.Collections.Generic;
using StitchMtls.TestGateway.Pki;

namespace StitchMtls.TestGateway.Commands;

/// <summary><c>pki --dir &lt;dir&gt;</c>: creates the private CA and server certificate if not already there.</summary>
internal static class PkiCommand
{
    public const string Name = "pki";

    public static int Run(IReadOnlyList<string> arguments)
    {
        CommandLineOptions options = CommandLineOptions.Parse(Name, arguments, ["dir"]);
        var pki = new PkiDirectory(options.GetRequiredString("dir"));

        PrivateCertificateAuthority.EnsureCreated(pki);
        return ExitCode.Success;
    }
}
