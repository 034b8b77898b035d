using System.Security.Cryptography.X509Certificates;
using StitchMtls.Platform;

namespace StitchMtls.Store;

/// <summary>
/// Lets a service account (NETWORK SERVICE, a gMSA, a scheduled task's account) use a store certificate's key
/// without making it exportable or copying it: read access on the key, nothing more.
/// </summary>
public static class KeyAccess
{
    /// <exception cref="StitchMtlsException">
    /// <c>PlatformNotSupported</c> (not Windows), <c>CertificateNotFound</c>, <c>AccountNotFound</c>,
    /// <c>PrivateKeyMissing</c>, <c>KeyAccessChangeDenied</c>.
    /// </exception>
    public static StitchKeyAccess Grant(CertificateStorePath store, string thumbprint, string account,
        IOperationLog log)
    {
        StorePlatform.EnsureSupported(store, write: false);
        X509Certificate2 certificate = StoreCertificates.FindByThumbprint(store, thumbprint);
        log.Verbose($"Giving '{account}' read access to the private key of '{certificate.Subject}'.");
        string kind = StorePlatform.GrantKeyAccess(certificate, account, store.Location);
        return new StitchKeyAccess
        {
            Subject = certificate.Subject,
            Thumbprint = certificate.Thumbprint,
            Account = account,
            KeyKind = kind,
            StorePath = store.WithThumbprint(certificate.Thumbprint).ToString(),
        };
    }

    /// <summary>Refuses the call before anything is looked up where the platform has no key ACLs.</summary>
    /// <exception cref="StitchMtlsException"><c>PlatformNotSupported</c>.</exception>
    public static void EnsureSupported() => StorePlatform.EnsureKeyAccessSupported();
}
