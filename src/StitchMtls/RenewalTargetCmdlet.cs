using System.Management.Automation;

namespace StitchMtls.Commands;

/// <summary>
/// What New-StitchRenewalRequest and Undo-StitchRenewal share: the certificate they work on is a chain file, or a
/// store certificate named by a <c>Cert:\</c> path, a thumbprint or a common name.
/// </summary>
public abstract class RenewalTargetCmdlet : StitchCmdlet
{
    protected const string FileSet = "File";
    protected const string ThumbprintSet = "Thumbprint";
    protected const string CommonNameSet = "CommonName";

    /// <summary>True when the bound parameters name a store certificate rather than a chain file.</summary>
    protected bool TargetsStore(string certificatePath) =>
        ParameterSetName != FileSet || Store.CertificateStorePath.LooksLikeStorePath(certificatePath);

    /// <summary>
    /// The store of the certificate and its thumbprint: from a <c>Cert:\&lt;location&gt;\My\&lt;thumbprint&gt;</c>
    /// -CertificatePath, or from -CertStoreLocation with -Thumbprint (null when -CommonName picks the certificate).
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>CertStorePathInvalid</c>.</exception>
    protected (Store.CertificateStorePath Store, string? Thumbprint) ResolveStoreTarget(string certificatePath,
        string thumbprint, string certStoreLocation)
    {
        if (ParameterSetName != FileSet)
        {
            return (ParseStoreLocation(certStoreLocation), ParameterSetName == ThumbprintSet ? thumbprint : null);
        }

        Store.CertificateStorePath path = Store.CertificateStorePath.Parse(certificatePath);
        string found = path.Thumbprint ?? throw new StitchMtlsException("CertStorePathInvalid",
            FailureCategory.InvalidArgument, $"'{certificatePath}' names a store, not a certificate. Add the " +
            "thumbprint, or use -Thumbprint or -CommonName with -CertStoreLocation.", certificatePath);
        return (path, found);
    }
}
