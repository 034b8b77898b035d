using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.TestGateway.Pki;

namespace StitchMtls.TestGateway.Commands;

/// <summary>
/// <c>sign --pki &lt;dir&gt; --csr &lt;file&gt; --out &lt;chain.pem&gt;</c> and the validity options:
/// the signing desk answering a client's certificate signing request.
/// </summary>
internal static class SignCommand
{
    public const string Name = "sign";

    public static int Run(IReadOnlyList<string> arguments)
    {
        CommandLineOptions options = CommandLineOptions.Parse(
            Name,
            arguments,
            LeafOptions.ValueNames.Concat(["csr", "out"]).ToArray(),
            LeafOptions.FlagNames);
        var pki = new PkiDirectory(options.GetRequiredString("pki"));
        string requestPath = options.GetRequiredString("csr");
        string chainPath = options.GetRequiredString("out");
        ValidityPeriod validity = LeafOptions.ReadValidity(options);

        using SigningDesk desk = SigningDesk.Open(pki);
        CertificateRequest request = SigningDesk.ReadSigningRequest(requestPath);
        using X509Certificate2 leaf = desk.Sign(request, validity, LeafOptions.ReadClientAuthentication(options));

        PemFile.WriteCertificates(chainPath, desk.ChainOf(leaf), overwrite: true);
        return ExitCode.Success;
    }
}
