using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Platform;

namespace StitchMtls.Store;

/// <summary>
/// Reads, finds and removes certificates in a certificate store. Every store access of the module goes through
/// here and <see cref="StorePlatform"/>, so the platforms' differences are handled once.
/// </summary>
public static class StoreCertificates
{
    /// <summary>
    /// The certificates at <paramref name="path"/>: the whole store, or the one certificate it names. Any store
    /// may be read (an expiry report of Root or CA is harmless); only the personal store is ever written.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// <c>PlatformNotSupported</c> or <c>CertificateNotFound</c>. A store that was never created (a fresh
    /// account's <c>Cert:\CurrentUser\My</c> on Linux) reads as empty.
    /// </exception>
    public static IReadOnlyList<X509Certificate2> Read(CertificateStorePath path)
    {
        List<X509Certificate2> certificates = ReadAll(path).Cast<X509Certificate2>()
            .Where(certificate => path.Thumbprint is null
                || string.Equals(certificate.Thumbprint, path.Thumbprint, StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (path.Thumbprint is not null && certificates.Count == 0)
        {
            throw NotFoundByThumbprint(path);
        }

        return certificates;
    }

    /// <summary>Removes the certificate with <paramref name="thumbprint"/> and its private key; returns it.</summary>
    /// <remarks>
    /// The key goes with the entry: .NET's store on Linux and macOS keeps certificate and key in one PKCS#12 file
    /// per certificate, which <see cref="StoreKeyRemoval"/> scrubs; on Windows it deletes the persisted key.
    /// </remarks>
    /// <exception cref="StitchMtlsException">
    /// <c>CertificateNotFound</c>, <c>ThumbprintInvalid</c>, <c>PlatformNotSupported</c>,
    /// <c>ElevationRequired</c>, <c>PrivateKeyAccessDenied</c> or <c>CertStoreAccessDenied</c>.
    /// </exception>
    public static X509Certificate2 Remove(CertificateStorePath store, string thumbprint)
    {
        CertificateStorePath path = store.WithThumbprint(thumbprint);
        using X509Store opened = StorePlatform.Open(store.Store, write: true);
        X509Certificate2 certificate = opened.Certificates.Cast<X509Certificate2>()
            .FirstOrDefault(c => string.Equals(c.Thumbprint, path.Thumbprint, StringComparison.OrdinalIgnoreCase))
            ?? throw NotFoundByThumbprint(path);

        StoreKeyRemoval.DeletePersistedKey(certificate, store.Store);
        try
        {
            opened.Remove(certificate);
        }
        catch (CryptographicException ex)
        {
            throw new StitchMtlsException("CertStoreAccessDenied", FailureCategory.PermissionDenied,
                $"Cannot remove {path.Thumbprint} from '{store.Store}': {ex.Message}", path.ToString(), ex);
        }

        return certificate;
    }

    /// <exception cref="StitchMtlsException"><c>CertificateNotFound</c>, <c>PlatformNotSupported</c>.</exception>
    public static X509Certificate2 FindByThumbprint(CertificateStorePath store, string thumbprint)
    {
        string wanted = CertificateStorePath.NormalizeThumbprint(thumbprint);
        CertificateStorePath path = store.WithThumbprint(wanted);
        foreach (X509Certificate2 certificate in ReadAll(store))
        {
            if (string.Equals(certificate.Thumbprint, wanted, StringComparison.OrdinalIgnoreCase))
            {
                return certificate;
            }
        }

        throw NotFoundByThumbprint(path);
    }

    /// <summary>
    /// The certificate that the CN names today: the newest (latest NotBefore) currently valid certificate with
    /// that common name, and with a private key when <paramref name="requireKey"/>; so a renewal is picked up
    /// without editing any thumbprint.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// <c>CertificateNotFound</c>, <c>PrivateKeyMissing</c> (only certificates without a key have that CN) or
    /// <c>CertificateExpired</c> (only expired ones have it) or <c>CertificateNotYetValid</c> (only ones not
    /// valid yet, or a mix of expired and not yet valid).
    /// </exception>
    public static X509Certificate2 FindByCommonName(CertificateStorePath store, string commonName, DateTime nowUtc,
        bool requireKey)
    {
        return SelectByCommonName(ReadAll(store), commonName, nowUtc, requireKey, store.Store.ToString());
    }

    /// <summary>
    /// The newest (latest NotBefore) certificate with the common name, valid or not: what an expiry report
    /// should look at, since an expired certificate is exactly what it must show.
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>CertificateNotFound</c>.</exception>
    public static X509Certificate2 FindNewestByCommonName(CertificateStorePath store, string commonName)
    {
        X509Certificate2? newest = ReadAll(store)
            .Where(certificate => string.Equals(CommonNameOf(certificate), commonName.Trim(),
                StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(certificate => certificate.NotBefore)
            .FirstOrDefault();
        return newest ?? throw NotFoundByName(commonName, store.Store.ToString());
    }

    /// <summary>The selection rule of <see cref="FindByCommonName"/>, for any collection.</summary>
    public static X509Certificate2 SelectByCommonName(IEnumerable<X509Certificate2> certificates, string commonName,
        DateTime nowUtc, bool requireKey, string storeName)
    {
        List<X509Certificate2> named = certificates
            .Where(certificate => string.Equals(CommonNameOf(certificate), commonName.Trim(),
                StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (named.Count == 0)
        {
            throw NotFoundByName(commonName, storeName);
        }

        List<X509Certificate2> valid = named
            .Where(certificate => certificate.NotBefore.ToUniversalTime() <= nowUtc
                && nowUtc <= certificate.NotAfter.ToUniversalTime())
            .ToList();
        if (valid.Count == 0)
        {
            throw OutsideValidity(named, commonName, nowUtc, storeName);
        }

        List<X509Certificate2> usable = requireKey ? valid.Where(c => c.HasPrivateKey).ToList() : valid;
        if (usable.Count == 0)
        {
            throw new StitchMtlsException("PrivateKeyMissing", FailureCategory.ObjectNotFound,
                $"The certificate(s) with the common name '{commonName}' in '{storeName}' have no private key, so " +
                "they cannot authenticate a TLS client. Import the chain with its key: Import-StitchChain " +
                $"-CertStoreLocation {PersonalStoreOf(storeName)} (add -KeyPath for a key file).", commonName);
        }

        return usable
            .OrderByDescending(certificate => certificate.NotBefore)
            .ThenByDescending(certificate => certificate.NotAfter)
            .First();
    }

    /// <summary>
    /// Why no certificate with the name is valid now. A not-yet-valid certificate is usually a brand-new one on a
    /// machine whose clock is behind, so that case gets the clock advice rather than "import a renewal".
    /// </summary>
    private static StitchMtlsException OutsideValidity(IReadOnlyList<X509Certificate2> named, string commonName,
        DateTime nowUtc, string storeName)
    {
        List<X509Certificate2> future = named.Where(c => c.NotBefore.ToUniversalTime() > nowUtc).ToList();
        List<X509Certificate2> expired = named.Where(c => c.NotAfter.ToUniversalTime() < nowUtc).ToList();
        string clock = future.Count == 0
            ? string.Empty
            : $"not valid until {future.Min(c => c.NotBefore.ToUniversalTime()):yyyy-MM-dd HH:mm:ss} UTC, and this " +
              $"machine's clock says {nowUtc:yyyy-MM-dd HH:mm:ss} UTC. Correct the clock, or wait until then";
        if (expired.Count == 0)
        {
            return new StitchMtlsException("CertificateNotYetValid", FailureCategory.InvalidData,
                $"Every certificate with the common name '{commonName}' in '{storeName}' is {clock}.", commonName);
        }

        DateTime latestExpiry = expired.Max(c => c.NotAfter.ToUniversalTime());
        if (future.Count == 0)
        {
            return new StitchMtlsException("CertificateExpired", FailureCategory.InvalidData,
                $"Every certificate with the common name '{commonName}' in '{storeName}' has expired (the latest " +
                $"expiry is {latestExpiry:yyyy-MM-dd}). Import the renewed certificate.", commonName);
        }

        return new StitchMtlsException("CertificateNotYetValid", FailureCategory.InvalidData,
            $"No certificate with the common name '{commonName}' in '{storeName}' is valid now: {expired.Count} " +
            $"expired (the latest on {latestExpiry:yyyy-MM-dd}) and {future.Count} {clock}.", commonName);
    }

    public static string CommonNameOf(X509Certificate2 certificate) =>
        certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    private static StitchMtlsException NotFoundByName(string commonName, string storeName) => new(
        "CertificateNotFound", FailureCategory.ObjectNotFound,
        $"Cannot find a certificate with the common name '{commonName}' in '{storeName}'. Import it with " +
        $"Import-StitchChain -CertStoreLocation {PersonalStoreOf(storeName)}.", commonName);

    private static StitchMtlsException NotFoundByThumbprint(CertificateStorePath path) => new(
        "CertificateNotFound", FailureCategory.ObjectNotFound,
        $"Cannot find the certificate '{path}' because it does not exist in '{path.Store}'. Check the thumbprint " +
        "and the store (Cert:\\CurrentUser\\My or Cert:\\LocalMachine\\My).", path.ToString());

    // Import advice names the personal store even when the search was elsewhere: that is where Import-StitchChain
    // writes, and the trusted Root store must never be suggested for a client certificate.
    private static string PersonalStoreOf(string storeName) =>
        storeName.StartsWith(@"Cert:\LocalMachine", StringComparison.OrdinalIgnoreCase)
            ? @"Cert:\LocalMachine\My"
            : CertificateStorePath.CurrentUserMy;

    private static X509Certificate2Collection ReadAll(CertificateStorePath store)
    {
        try
        {
            using X509Store opened = StorePlatform.Open(store.Store, write: false);
            return opened.Certificates;
        }
        catch (StitchMtlsException ex) when (ex.ErrorId == "CertStoreNotFound")
        {
            return new X509Certificate2Collection();
        }
    }
}
