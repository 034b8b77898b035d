using System.IO;

namespace StitchMtls;

/// <summary>
/// The files of one certificate's lifecycle, all in the current certificate's folder so every switch is a
/// rename within one folder. For a chain <c>stitch-mtls-chain.pem</c> with key <c>stitch-mtls.key</c>:
/// <list type="bullet">
/// <item><c>stitch-mtls.renewal.key</c>, <c>stitch-mtls.renewal.csr</c>, <c>stitch-mtls.renewal.json</c>: the
/// pending renewal;</item>
/// <item><c>stitch-mtls.renewal-chain.pem</c>: the renewed chain while it is tested;</item>
/// <item><c>stitch-mtls-chain.pem.previous</c>, <c>stitch-mtls.key.previous</c>: the pair before the last
/// switch, for Undo-StitchRenewal.</item>
/// </list>
/// </summary>
public sealed class RenewalPaths
{
    private const string ChainSuffix = "-chain.pem";

    private RenewalPaths(string certificatePath, string keyPath)
    {
        CertificatePath = Path.GetFullPath(certificatePath);
        KeyPath = Path.GetFullPath(keyPath);
        Folder = Path.GetDirectoryName(CertificatePath)!;
        Name = Path.GetFileNameWithoutExtension(KeyPath);
    }

    public string Folder { get; }

    /// <summary>The key file's name without its extension: <c>stitch-mtls</c>.</summary>
    public string Name { get; }

    public string CertificatePath { get; }

    public string KeyPath { get; }

    public string PendingKeyPath => Path.Combine(Folder, Name + ".renewal.key");

    public string RecordPath => Path.Combine(Folder, Name + ".renewal.json");

    public string StagedChainPath => Path.Combine(Folder, Name + ".renewal" + ChainSuffix);

    public string PreviousCertificatePath => CertificatePath + ".previous";

    public string PreviousKeyPath => KeyPath + ".previous";

    public string DefaultCsrPath(string? folder) =>
        Path.GetFullPath(Path.Combine(folder ?? Folder, Name + ".renewal.csr"));

    /// <summary>
    /// The paths for a current chain file; the key is <paramref name="keyPath"/> or, for a chain named
    /// <c>&lt;name&gt;-chain.pem</c> as Import-StitchChain writes it, <c>&lt;name&gt;.key</c> beside it.
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>KeyPathRequired</c>.</exception>
    public static RenewalPaths For(string certificatePath, string? keyPath)
    {
        if (keyPath is null)
        {
            string file = Path.GetFileName(certificatePath);
            if (!file.EndsWith(ChainSuffix, System.StringComparison.OrdinalIgnoreCase))
            {
                throw new StitchMtlsException("KeyPathRequired", FailureCategory.InvalidArgument,
                    $"Cannot tell which key belongs to '{certificatePath}': only chain files named " +
                    $"'<name>{ChainSuffix}' find their '<name>.key' on their own. Give the key with -KeyPath.",
                    certificatePath);
            }

            string folder = Path.GetDirectoryName(Path.GetFullPath(certificatePath))!;
            keyPath = Path.Combine(folder, file[..^ChainSuffix.Length] + ".key");
        }

        string keyFolder = Path.GetDirectoryName(Path.GetFullPath(keyPath))!;
        string chainFolder = Path.GetDirectoryName(Path.GetFullPath(certificatePath))!;
        if (!string.Equals(keyFolder, chainFolder, System.StringComparison.Ordinal))
        {
            throw new StitchMtlsException("KeyFolderDiffers", FailureCategory.InvalidArgument,
                $"The key '{keyPath}' is not in the certificate's folder '{chainFolder}'. Renewal switches the two " +
                "by renaming within one folder, so keep the chain and key together.", keyPath);
        }

        return new RenewalPaths(certificatePath, keyPath);
    }
}
