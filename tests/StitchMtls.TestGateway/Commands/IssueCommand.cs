using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.TestGateway.Pki;

namespace StitchMtls.TestGateway.Commands;

/// <summary>
/// <c>issue --pki &lt;dir&gt; --cn &lt;cn&gt; --out-dir &lt;dir&gt;</c>: a test client's key and certificate in one
/// step. The key is made here, its request goes through the same signing desk as <c>sign</c>.
/// </summary>
internal static class IssueCommand
{
    public const string Name = "issue";

    private const string DefaultFileName = "leaf";

    private const int DefaultKeySize = 2048;

    public static int Run(IReadOnlyList<string> arguments)
    {
        CommandLineOptions options = CommandLineOptions.Parse(
            Name,
            arguments,
            LeafOptions.ValueNames.Concat(["cn", "org", "out-dir", "key-size", "name"]).ToArray(),
            LeafOptions.FlagNames);
        var pki = new PkiDirectory(options.GetRequiredString("pki"));
        string commonName = options.GetRequiredString("cn");
        string? organization = options.GetString("org");
        string outputDirectory = Path.GetFullPath(options.GetRequiredString("out-dir"));
        string fileName = ReadFileName(options);
        int keySize = options.GetInt32("key-size", min: 1024, max: 8192) ?? DefaultKeySize;
        ValidityPeriod validity = LeafOptions.ReadValidity(options);

        using SigningDesk desk = SigningDesk.Open(pki);
        using RSA key = RSA.Create(keySize);
        CertificateRequest request = SigningDesk.ParseSigningRequest(
            CreateSigningRequest(key, commonName, organization),
            $"{Name} for CN={commonName}");
        using X509Certificate2 leaf = desk.Sign(request, validity, LeafOptions.ReadClientAuthentication(options));

        Directory.CreateDirectory(outputDirectory);
        PemFile.WritePrivateKey(Path.Combine(outputDirectory, fileName + ".key"), key, overwrite: true);
        PemFile.WriteCertificates(Path.Combine(outputDirectory, fileName + "-chain.pem"), desk.ChainOf(leaf), true);
        PemFile.WriteCertificates(Path.Combine(outputDirectory, fileName + ".pem"), [leaf], overwrite: true);
        return ExitCode.Success;
    }

    private static byte[] CreateSigningRequest(RSA key, string commonName, string? organization)
    {
        // The builder encodes the last name added first: this gives O=..., CN=... in DER order, as openssl would.
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(commonName);
        if (!string.IsNullOrEmpty(organization))
        {
            subject.AddOrganizationName(organization);
        }
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSigningRequest();
    }

    private static string ReadFileName(CommandLineOptions options)
    {
        string name = options.GetString("name") ?? DefaultFileName;
        if (name.Length == 0 || name != Path.GetFileName(name) || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new GatewayInputException($"{Name}: option '--name' must be a plain file name, not '{name}'.");
        }

        return name;
    }
}
