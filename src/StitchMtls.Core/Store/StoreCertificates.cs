using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Platform;

namespace StitchMtls.Store;

/// <summary>Finds certificates in a certificate store by thumbprint or by common name.</summary>
public static class StoreCertificates
{
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

        throw new StitchMtlsException("CertificateNotFound", FailureCategory.ObjectNotFound,
            $"Cannot find the certificate '{path}' because it does not exist in '{store.Store}'. Check the " +
            "thumbprint and the store (Cert:\\CurrentUser\\My or Cert:\\LocalMachine\\My).", path.ToString());
    }

    /// <summary>
    /// The certificate that the CN names today: the newest (latest NotBefore) currently valid certificate with
    /// that common name, and with a private key when <paramref name="requireKey"/>; so a renewal is picked up
    /// without editing any thumbprint.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// <c>CertificateNotFound</c>, <c>PrivateKeyMissing</c> (only certificates without a key have that CN) or
    /// <c>CertificateExpired</c> (only expired or not yet valid ones have it).
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
            DateTime latest = named.Max(certificate => certificate.NotAfter.ToUniversalTime());
            throw new StitchMtlsException("CertificateExpired", FailureCategory.InvalidData,
                $"Every certificate with the common name '{commonName}' in '{storeName}' is outside its validity " +
                $"period (the latest expiry is {latest:yyyy-MM-dd}). Import the renewed certificate.", commonName);
        }

        List<X509Certificate2> usable = requireKey ? valid.Where(c => c.HasPrivateKey).ToList() : valid;
        if (usable.Count == 0)
        {
            throw new StitchMtlsException("PrivateKeyMissing", FailureCategory.ObjectNotFound,
                $"The certificate(s) with the common name '{commonName}' in '{storeName}' have no private key, so " +
                "they cannot authenticate a TLS client. Import the chain with its key: Import-StitchChain " +
                $"-CertStoreLocation {storeName} (add -KeyPath for a key file).", commonName);
        }

        return usable
            .OrderByDescending(certificate => certificate.NotBefore)
            .ThenByDescending(certificate => certificate.NotAfter)
            .First();
    }

    public static string CommonNameOf(X509Certificate2 certificate) =>
        certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    private static StitchMtlsException NotFoundByName(string commonName, string storeName) => new(
        "CertificateNotFound", FailureCategory.ObjectNotFound,
        $"Cannot find a certificate with the common name '{commonName}' in '{storeName}'. Import it with " +
        $"Import-StitchChain -CertStoreLocation {storeName}.", commonName);

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
