using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Store;

namespace StitchMtls.Platform;

/// <summary>Deletes the private key behind a store certificate where the store keeps it apart from the entry.</summary>
internal static class StoreKeyRemoval
{
    /// <summary>
    /// Deletes a pending key that will never be bound: on Windows the persisted CNG key the pending entry names;
    /// elsewhere the key is the pending file itself, which <see cref="Store.PendingKeyFolder.Remove"/> scrubs.
    /// </summary>
    public static void DeletePendingKey(AsymmetricAlgorithm key)
    {
        if (OperatingSystem.IsWindows() && key is RSACng { Key.IsEphemeral: false } cng)
        {
            cng.Key.Delete();
        }
    }

    public static void DeletePersistedKey(X509Certificate2 certificate, CertificateStorePath location)
    {
        if (OperatingSystem.IsWindows())
        {
            DeleteCngKey(certificate);
            return;
        }

        // .NET's own store keeps each entry, key included, as <store folder>/<THUMBPRINT>.pfx under ~/.dotnet. The
        // file is overwritten and deleted here; X509Store.Remove afterwards finds nothing left to do. (Overwriting
        // and leaving the deletion to Remove does not work: Remove finds the entry by reading the files.)
        if (location.Location == StoreLocation.CurrentUser)
        {
            string file = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet",
                "corefx", "cryptography", "x509stores", location.StoreName.ToLowerInvariant(),
                certificate.Thumbprint + ".pfx");
            try
            {
                SecureDelete.Overwrite(file);
                File.Delete(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // X509Store.Remove still deletes the file; only the scrub is lost.
            }
        }
    }

    private static void DeleteCngKey(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows() || !certificate.HasPrivateKey)
        {
            return;
        }

        try
        {
            using RSA? rsa = certificate.GetRSAPrivateKey();
            if (rsa is RSACng cng)
            {
                cng.Key.Delete();
                return;
            }

            using ECDsa? ec = certificate.GetECDsaPrivateKey();
            if (ec is ECDsaCng ecCng)
            {
                ecCng.Key.Delete();
            }
        }
        catch (CryptographicException ex)
        {
            throw new StitchMtlsException("PrivateKeyAccessDenied", FailureCategory.PermissionDenied,
                $"Cannot delete the private key of {certificate.Thumbprint}: {ex.Message} Run as an account that " +
                "may manage the key (for Cert:\\LocalMachine, an elevated session).", certificate.Thumbprint, ex);
        }
    }
}
