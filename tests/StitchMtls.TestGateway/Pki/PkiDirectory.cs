using System.IO;

namespace StitchMtls.TestGateway.Pki;

/// <summary>
/// The file layout of the gateway's private CA: a root, an intermediate that signs every leaf,
/// and the gateway's own server certificate.
/// </summary>
internal sealed class PkiDirectory
{
    public PkiDirectory(string path)
    {
        FullPath = Path.GetFullPath(path);
    }

    public string FullPath { get; }

    public string RootCertificatePath => Combine("root.pem");

    public string RootKeyPath => Combine("root.key");

    public string IntermediateCertificatePath => Combine("intermediate.pem");

    public string IntermediateKeyPath => Combine("intermediate.key");

    public string ServerCertificatePath => Combine("server.pem");

    public string ServerKeyPath => Combine("server.key");

    /// <summary>The server leaf followed by the intermediate, as the gateway sends it.</summary>
    public string ServerChainPath => Combine("server-chain.pem");

    private string Combine(string fileName) => Path.Combine(FullPath, fileName);
}
