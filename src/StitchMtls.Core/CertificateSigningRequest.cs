using System;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;

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

        var certificateRequest = new CertificateRequest(subject, key, HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        byte[] csrDer = certificateRequest.CreateSigningRequest();
        string csrPem = Pem.PemDocument.Write("CERTIFICATE REQUEST", csrDer);
        string publicKeySha256 = KeyIdentity.PublicKeySha256(subjectPublicKeyInfo);
        log.Verbose($"Signed the CSR for {subject.Name} with SHA-256; public key SHA-256 {publicKeySha256}.");

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
}
