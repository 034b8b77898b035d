using System;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using StitchMtls.Platform;
using StitchMtls.Store;

namespace StitchMtls;

/// <summary>
/// Generates the key pair and the PKCS#10 request (RFC 2986) Stitch signs: RSA, SHA-256 with PKCS#1 v1.5
/// padding (sha256WithRSAEncryption), no attributes or extensions, the subject from <see cref="CsrSubject"/>.
/// </summary>
public static class CertificateSigningRequest
{
    /// <summary>Checks the request before any slow work: the destinations must be writable.</summary>
    /// <exception cref="StitchMtlsException"><c>FileExists</c> naming the file when not overwriting.</exception>
    public static void CheckDestinations(NewCsrRequest request, bool overwrite)
    {
        FileSet.EnsureWritable(new[] { request.KeyPath, request.CsrPath }, overwrite);
    }

    /// <summary>
    /// The same check for a store key: the platform must offer the store, and the CSR file be writable.
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>PlatformNotSupported</c>, <c>ElevationRequired</c>,
    /// <c>FileExists</c>.</exception>
    public static void CheckDestinations(NewCsrRequest request, StoreKeyOptions store, bool overwrite)
    {
        StorePlatform.EnsureSupported(store.Location, write: true);
        FileSet.EnsureWritable(new[] { request.CsrPath }, overwrite);
    }

    /// <remarks>
    /// Key generation itself cannot be interrupted; <paramref name="cancellationToken"/> is checked once the key
    /// exists, so a cancelled call writes nothing.
    /// </remarks>
    public static StitchCsr Create(NewCsrRequest request, ReadOnlySpan<char> keyPassword, bool overwrite,
        IOperationLog log, CancellationToken cancellationToken = default)
    {
        CheckDestinations(request, overwrite);

        PendingKey pending = Generate(request.Subject.ToDistinguishedName(), request.KeySize, request.KeyPath,
            request.CsrPath, keyPassword, overwrite, log, cancellationToken);
        string csrPem = pending.CsrPem;
        string publicKeySha256 = pending.PublicKeySha256;

        return new StitchCsr
        {
            CommonName = request.Subject.CommonName,
            Subject = request.Subject.ToString(),
            KeySize = request.KeySize,
            KeyPath = request.KeyPath,
            CsrPath = request.CsrPath,
            KeyProtection = keyPassword.IsEmpty ? KeyProtection.Plain : KeyProtection.Encrypted,
            PublicKeySha256 = publicKeySha256,
            CsrPem = csrPem,
        };
    }

    /// <summary>A key and CSR that <see cref="Generate"/> wrote.</summary>
    internal sealed record PendingKey(string CsrPem, string PublicKeySha256);

    /// <summary>
    /// Generates an RSA key and a CSR for <paramref name="subject"/>, taken byte for byte, and writes the key,
    /// the CSR and the <paramref name="extraFiles"/> made for the new public key's SHA-256, all or nothing.
    /// </summary>
    internal static PendingKey Generate(X500DistinguishedName subject, int keySize, string keyPath,
        string csrPath, ReadOnlySpan<char> keyPassword, bool overwrite, IOperationLog log,
        CancellationToken cancellationToken, Func<string, (string Path, byte[] Content)[]>? extraFiles = null)
    {
        string commonName = subject.GetSimpleName();
        log.Verbose($"Generating an RSA-{keySize} key for CN={commonName}.");
        var watch = Stopwatch.StartNew();
        using RSA key = RSA.Create(keySize);
        // OpenSSL generates the key lazily, on first use: asking for the public half makes it happen here.
        byte[] subjectPublicKeyInfo = KeyIdentity.SubjectPublicKeyInfo(key);
        log.Verbose($"Generated the key in {watch.Elapsed.TotalSeconds:0.0} s.");
        cancellationToken.ThrowIfCancellationRequested();

        string csrPem = SignRequest(subject, key, log);
        string publicKeySha256 = KeyIdentity.PublicKeySha256(subjectPublicKeyInfo);

        byte[] keyPem = PrivateKeyFile.Export(key, keyPassword);
        try
        {
            var files = new FileSet();
            files.AddPrivate(keyPath, keyPem);
            files.AddPublic(csrPath, Encoding.ASCII.GetBytes(csrPem));
            var extras = extraFiles?.Invoke(publicKeySha256) ?? Array.Empty<(string, byte[])>();
            foreach ((string path, byte[] content) in extras)
            {
                files.AddPublic(path, content);
            }

            cancellationToken.ThrowIfCancellationRequested();
            log.Verbose($"Writing '{keyPath}' (owner-only) and '{csrPath}'.");
            files.Commit(overwrite);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyPem);
        }

        return new PendingKey(csrPem, publicKeySha256);
    }

    /// <summary>
    /// Creates the key where <paramref name="store"/>'s platform keeps store keys and writes the CSR file; the
    /// key waits in the <see cref="PendingKeyFolder"/> until Import-StitchChain binds the signed certificate.
    /// </summary>
    /// <remarks>
    /// On Windows the key is a persisted CNG key that never exists as a file; elsewhere it is a pending key
    /// file, owner-only. A cancelled or failed call removes the key it created.
    /// </remarks>
    /// <exception cref="StitchMtlsException">
    /// <c>PlatformNotSupported</c>, <c>ElevationRequired</c>, <c>KeyCreationFailed</c> or <c>FileExists</c>.
    /// </exception>
    public static StitchCsr CreateInStore(NewCsrRequest request, StoreKeyOptions store, bool overwrite,
        IOperationLog log, CancellationToken cancellationToken = default)
    {
        CheckDestinations(request, store, overwrite);
        PendingKeyFolder pending = store.PendingKeys ?? PendingKeyFolder.For(store.Location.Location);

        var watch = Stopwatch.StartNew();
        using PendingStoreKey storeKey = PendingStoreKey.Create(store, request.KeySize, request.Subject.CommonName,
            log);
        var committed = false;
        try
        {
            byte[] subjectPublicKeyInfo = KeyIdentity.SubjectPublicKeyInfo(storeKey.Key);
            log.Verbose($"Generated the key in {watch.Elapsed.TotalSeconds:0.0} s.");
            cancellationToken.ThrowIfCancellationRequested();

            string csrPem = SignRequest(request.ExactSubject ?? request.Subject.ToDistinguishedName(), storeKey.Key,
                log);
            string publicKeySha256 = KeyIdentity.PublicKeySha256(subjectPublicKeyInfo);
            pending.EnsureExists();
            var files = new FileSet();
            string pendingPath = storeKey.EntryPath(pending, publicKeySha256);
            byte[] pendingContent = storeKey.EntryContent();
            try
            {
                files.AddPrivate(pendingPath, pendingContent);
                files.AddPublic(request.CsrPath, Encoding.ASCII.GetBytes(csrPem));
                cancellationToken.ThrowIfCancellationRequested();
                log.Verbose($"Writing the pending key entry '{pendingPath}' (owner-only) and '{request.CsrPath}'.");
                files.Commit(overwrite);
                committed = true;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pendingContent);
            }

            return new StitchCsr
            {
                CommonName = request.Subject.CommonName,
                Subject = request.Subject.ToString(),
                KeySize = request.KeySize,
                KeyPath = storeKey.KeyFilePath(pending, publicKeySha256),
                CsrPath = request.CsrPath,
                KeyProtection = storeKey.Protection,
                PublicKeySha256 = publicKeySha256,
                CsrPem = csrPem,
                CertStoreLocation = store.Location.Store.ToString(),
                KeyContainer = storeKey.KeyContainer,
                KeyStorageProvider = storeKey.KeyStorageProvider,
            };
        }
        finally
        {
            if (!committed)
            {
                storeKey.Discard();
            }
        }
    }

    private static string SignRequest(X500DistinguishedName subject, RSA key, IOperationLog log)
    {
        var certificateRequest = new CertificateRequest(subject, key, HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        byte[] csrDer = certificateRequest.CreateSigningRequest();
        log.Verbose($"Signed the CSR for {subject.Name} with SHA-256.");
        return Pem.PemDocument.Write("CERTIFICATE REQUEST", csrDer);
    }
}

/// <summary>Where New-StitchCsr -CertStoreLocation creates the key, and how.</summary>
public sealed class StoreKeyOptions
{
    public required CertificateStorePath Location { get; init; }

    /// <summary>Windows: the CNG key may be exported (Export-StitchCertificate); otherwise it never leaves.</summary>
    public bool Exportable { get; init; }

    /// <summary>Windows: the CNG provider; the Microsoft Software Key Storage Provider when null.</summary>
    public string? KeyStorageProvider { get; init; }

    /// <summary>Where the pending key waits; the user's (or machine's) default folder when null.</summary>
    public PendingKeyFolder? PendingKeys { get; init; }
}
