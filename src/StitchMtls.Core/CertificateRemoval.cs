using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls;

/// <summary>What Remove-StitchCertificate removed, and what to tell Stitch about it.</summary>
public sealed class StitchCertificateRemoval
{
    public string? CommonName { get; init; }

    public string? Subject { get; init; }

    public string? Thumbprint { get; init; }

    public string? SerialNumber { get; init; }

    public DateTime? NotAfter { get; init; }

    /// <summary>The files deleted, or the store entry removed as <c>Cert:\...\&lt;thumbprint&gt;</c>.</summary>
    public required IReadOnlyList<string> Removed { get; init; }

    /// <summary>What to tell Stitch: access is revoked at their gateway, per certificate.</summary>
    public required string TellStitch { get; init; }
}

/// <summary>
/// Removes a compromised (or retired) certificate and its key: key files are overwritten before they are
/// deleted, where the file system keeps a file's bytes in place (not on copy-on-write or journalling-data file
/// systems, nor SSDs that remap writes: there only the deletion is certain).
/// </summary>
public static class CertificateRemoval
{
    /// <summary>Identifies the certificate the files hold, before anything is deleted.</summary>
    /// <exception cref="StitchMtlsException"><c>CertificateFileNotFound</c>, <c>KeyFileNotFound</c>.</exception>
    public static X509Certificate2? Identify(string? certificatePath, string? keyPath)
    {
        if (certificatePath is null && keyPath is null)
        {
            throw new StitchMtlsException("NothingToRemove", FailureCategory.InvalidArgument,
                "Give -CertificatePath, -KeyPath or both: the files of the certificate to remove.", null);
        }

        if (keyPath is not null && !File.Exists(keyPath))
        {
            throw new StitchMtlsException("KeyFileNotFound", FailureCategory.ObjectNotFound,
                $"Cannot find the private key file '{keyPath}' because it does not exist.", keyPath);
        }

        if (certificatePath is null)
        {
            return null;
        }

        IReadOnlyList<X509Certificate2> certificates = CertificateFile.Load(certificatePath);
        X509Certificate2 leaf = ExpiryCalculator.SubjectCertificate(certificates);
        foreach (X509Certificate2 other in certificates.Where(c => !ReferenceEquals(c, leaf)))
        {
            other.Dispose();
        }

        if (keyPath is not null)
        {
            CheckKeyBelongs(leaf, certificatePath, keyPath);
        }

        return leaf;
    }

    /// <summary>
    /// The private key of <paramref name="leaf"/> in the certificate file's folder, so removing a compromised
    /// certificate never leaves its key behind unnoticed: <c>&lt;name&gt;.key</c> for <c>&lt;name&gt;-chain.pem</c> (as
    /// Import-StitchChain names them) or <c>&lt;name&gt;.pem</c>, else any other <c>*.key</c> there; the one whose
    /// public key is the certificate's.
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>KeyPathRequired</c> when no file there holds the key.</exception>
    public static string FindKeyBeside(X509Certificate2 leaf, string certificatePath)
    {
        string fullPath = Path.GetFullPath(certificatePath);
        string folder = Path.GetDirectoryName(fullPath)!;
        string file = Path.GetFileName(fullPath);
        const string ChainSuffix = "-chain.pem";
        string name = file.EndsWith(ChainSuffix, StringComparison.OrdinalIgnoreCase)
            ? file[..^ChainSuffix.Length]
            : Path.GetFileNameWithoutExtension(file);
        string conventional = Path.Combine(folder, name + ".key");
        var others = new EnumerationOptions { AttributesToSkip = FileAttributes.Hidden | FileAttributes.System };
        IEnumerable<string> candidates = new[] { conventional }
            .Concat(Directory.EnumerateFiles(folder, "*.key", others).Order(StringComparer.Ordinal))
            .Distinct(StringComparer.Ordinal);

        var encrypted = new List<string>();
        int checkedCount = 0;
        foreach (string candidate in candidates)
        {
            // Length 0 also stands for pipes and devices, which would block the read (see CertificateFile.Load).
            if (!File.Exists(candidate) || new FileInfo(candidate).Length == 0)
            {
                continue;
            }

            checkedCount++;
            switch (HoldsKeyOf(leaf, candidate))
            {
                case true:
                    return candidate;
                case null:
                    encrypted.Add(candidate);
                    break;
            }
        }

        string why = encrypted.Count > 0
            ? $"{string.Join(", ", encrypted.Select(path => $"'{path}'"))} is encrypted and cannot be matched to " +
              "it without the password"
            : $"none of the {checkedCount} .key file(s) there holds its key";
        throw new StitchMtlsException("KeyPathRequired", FailureCategory.InvalidArgument,
            $"Cannot find the private key of '{leaf.Subject}' beside '{fullPath}': {why}. Nothing was removed. " +
            "Give the key with -KeyPath so both go, or add -CertificateOnly if the key is kept elsewhere (a " +
            "certificate store, an HSM) or is already gone.", fullPath);
    }

    /// <summary>
    /// True when the key file holds the certificate's key; null when it is encrypted and so cannot tell.
    /// </summary>
    private static bool? HoldsKeyOf(X509Certificate2 leaf, string keyPath)
    {
        try
        {
            using AsymmetricAlgorithm key = PrivateKeyFile.Load(keyPath, ReadOnlySpan<char>.Empty);
            return KeyIdentity.Matches(leaf, key);
        }
        catch (StitchMtlsException ex) when (ex.ErrorId == "KeyPasswordRequired")
        {
            return null;
        }
        catch (StitchMtlsException)
        {
            // Not a key this module reads (unreadable, another format): not this certificate's key either.
            return false;
        }
    }

    /// <summary>
    /// Refuses a key that is not the certificate's, so a slip of the path does not delete a key still in use. An
    /// encrypted key cannot be read without its password and is not checked.
    /// </summary>
    private static void CheckKeyBelongs(X509Certificate2 leaf, string certificatePath, string keyPath)
    {
        AsymmetricAlgorithm key;
        try
        {
            key = PrivateKeyFile.Load(keyPath, ReadOnlySpan<char>.Empty);
        }
        catch (StitchMtlsException ex) when (ex.ErrorId == "KeyPasswordRequired")
        {
            return;
        }

        using (key)
        {
            if (!KeyIdentity.Matches(leaf, key))
            {
                var mismatch = new StitchMtlsException("KeyCertificateMismatch", FailureCategory.InvalidData,
                    $"The key '{keyPath}' does not belong to the certificate '{leaf.Subject}' in " +
                    $"'{certificatePath}'. Nothing was removed. Check the paths, or remove each file on its own.",
                    keyPath);
                leaf.Dispose();
                throw mismatch;
            }
        }
    }

    /// <summary>Overwrites and deletes the key file, then deletes the certificate file.</summary>
    public static StitchCertificateRemoval RemoveFiles(X509Certificate2? certificate, string? certificatePath,
        string? keyPath, IOperationLog log)
    {
        var removed = new List<string>();
        if (keyPath is not null)
        {
            log.Verbose($"Overwriting and deleting the private key '{keyPath}'.");
            Delete(keyPath);
            removed.Add(Path.GetFullPath(keyPath));
        }

        if (certificatePath is not null)
        {
            log.Verbose($"Deleting '{certificatePath}'.");
            Delete(certificatePath);
            removed.Add(Path.GetFullPath(certificatePath));
        }

        return Describe(certificate, removed);
    }

    public static StitchCertificateRemoval RemoveFromStore(Store.CertificateStorePath store, string thumbprint,
        IOperationLog log)
    {
        log.Verbose($"Removing {thumbprint} and its private key from {store.Store}.");
        using X509Certificate2 certificate = Store.StoreCertificates.Remove(store, thumbprint);
        return Describe(certificate, new[] { store.WithThumbprint(certificate.Thumbprint).ToString() });
    }

    public static StitchCertificateRemoval Describe(X509Certificate2? certificate, IReadOnlyList<string> removed)
    {
        string which = certificate is null
            ? "the certificate issued for the removed key (give Stitch its CN and serial number)"
            : $"the certificate '{certificate.Subject}', serial number {certificate.SerialNumber}, thumbprint " +
              $"{certificate.Thumbprint}";
        return new StitchCertificateRemoval
        {
            CommonName = certificate?.GetNameInfo(X509NameType.SimpleName, forIssuer: false),
            Subject = certificate?.Subject,
            Thumbprint = certificate?.Thumbprint,
            SerialNumber = certificate?.SerialNumber,
            NotAfter = certificate?.NotAfter.ToUniversalTime(),
            Removed = removed,
            TellStitch = $"If the key may be compromised, contact Stitch immediately and ask them to revoke {which}. " +
                "Stitch revokes access at the gateway per certificate; until they do, whoever holds the key can " +
                "still connect with it. Then make a new key and CSR with New-StitchCsr.",
        };
    }

    private static void Delete(string path)
    {
        try
        {
            SecureDelete.Overwrite(path);
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StitchMtlsException("FileDeleteFailed", FailureCategory.WriteError,
                $"Cannot delete '{path}': {ex.Message}", path, ex);
        }
    }
}
