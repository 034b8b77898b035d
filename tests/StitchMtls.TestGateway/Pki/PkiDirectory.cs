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

    /// <summary>Where the server certificate of <paramref name="kind"/> lives; the file may not exist yet.</summary>
    public ServerCertificateFiles ServerFiles(ServerCertificateKind kind) => kind switch
    {
        ServerCertificateKind.OtherHost => new(
            Combine("server-other.pem"),
            Combine("server-other.key"),
            Combine("server-other-chain.pem")),
        ServerCertificateKind.SelfSigned => new(
            Combine("server-self-signed.pem"),
            Combine("server-self-signed.key"),
            Combine("server-self-signed.pem")),
        _ => new(ServerCertificatePath, ServerKeyPath, ServerChainPath),
    };

    private string Combine(string fileName) => Path.Combine(FullPath, fileName);
}
