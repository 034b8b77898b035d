using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Store;

/// <summary>
/// Exports a store certificate with its key and chain as PKCS#12, with the same AES-256 protection as
/// Import-StitchChain -PfxPath, for moving it to another machine or an Azure Automation certificate asset.
/// </summary>
public static class CertificateExport
{
    /// <exception cref="StitchMtlsException">
    /// <c>PrivateKeyMissing</c>, <c>KeyNotExportable</c>, <c>PrivateKeyAccessDenied</c>, <c>FileExists</c>,
    /// <c>PfxPasswordRequired</c>.
    /// </exception>
    public static StitchCertificateExport ToPkcs12(X509Certificate2 certificate, string pfxPath,
        ReadOnlySpan<char> password, bool overwrite, IOperationLog log)
    {
        if (password.IsEmpty)
        {
            throw new StitchMtlsException("PfxPasswordRequired", FailureCategory.InvalidArgument,
                "-PfxPassword is empty. A PKCS#12 file holds the private key and must be protected: give a " +
                "non-empty password.", pfxPath);
        }

        FileSet.EnsureWritable(new[] { pfxPath }, overwrite);
        if (!certificate.HasPrivateKey)
        {
            throw new StitchMtlsException("PrivateKeyMissing", FailureCategory.ObjectNotFound,
                $"The certificate '{certificate.Subject}' ({certificate.Thumbprint}) has no private key to export.",
                certificate.Thumbprint);
        }

        using ClientCertificate client = ClientCertificate.FromCertificate(new X509Certificate2(certificate));
        AsymmetricAlgorithm key = OpenKey(certificate);
        try
        {
            var supplied = new List<X509Certificate2> { client.Leaf };
            supplied.AddRange(client.Intermediates);
            ClientChain chain = ClientChain.Assemble(supplied, key, certificate.Thumbprint);
            log.Verbose($"Exporting '{certificate.Subject}' with {chain.Issuers.Count} issuer certificate(s) as " +
                "PKCS#12 (AES-256-CBC, PBKDF2-HMAC-SHA256).");
            byte[] pfx;
            try
            {
                pfx = Pkcs12File.Build(chain, key, password);
            }
            catch (CryptographicException ex)
            {
                throw new StitchMtlsException("KeyNotExportable", FailureCategory.SecurityError,
                    $"The private key of '{certificate.Subject}' ({certificate.Thumbprint}) cannot be exported: it " +
                    "was created non-exportable, so it never leaves this machine (that is the point of a store " +
                    "key). Create a new key on the target machine with New-StitchCsr -CertStoreLocation, or use " +
                    "-Exportable when creating one that must move.", certificate.Thumbprint, ex);
            }

            try
            {
                var files = new FileSet();
                files.AddPrivate(pfxPath, pfx);
                files.Commit(overwrite);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pfx);
            }

            return new StitchCertificateExport
            {
                Subject = certificate.Subject,
                Thumbprint = certificate.Thumbprint,
                NotAfter = certificate.NotAfter.ToUniversalTime(),
                PfxPath = System.IO.Path.GetFullPath(pfxPath),
                CertificateCount = chain.InOrder.Count(),
            };
        }
        finally
        {
            key.Dispose();
        }
    }

    private static AsymmetricAlgorithm OpenKey(X509Certificate2 certificate)
    {
        try
        {
            return (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey()
                ?? throw new StitchMtlsException("KeyAlgorithmUnsupported", FailureCategory.InvalidData,
                    $"The private key of '{certificate.Subject}' is neither RSA nor ECDSA.", certificate.Thumbprint);
        }
        catch (CryptographicException ex)
        {
            throw ClientCertificate.PrivateKeyAccessDenied(certificate, ex);
        }
    }
}
