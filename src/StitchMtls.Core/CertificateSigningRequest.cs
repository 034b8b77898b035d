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

        log.Verbose($"Generating an RSA-{request.KeySize} key for CN={request.Subject.CommonName}.");
        var watch = Stopwatch.StartNew();
        using RSA key = RSA.Create(request.KeySize);
        // OpenSSL generates the key lazily, on first use: asking for the public half makes it happen here.
        byte[] subjectPublicKeyInfo = KeyIdentity.SubjectPublicKeyInfo(key);
        log.Verbose($"Generated the key in {watch.Elapsed.TotalSeconds:0.0} s.");
        cancellationToken.ThrowIfCancellationRequested();

        X500DistinguishedName subject = request.Subject.ToDistinguishedName();
        var certificateRequest = new CertificateRequest(subject, key, HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        byte[] csrDer = certificateRequest.CreateSigningRequest();
        string csrPem = Pem.PemDocument.Write("CERTIFICATE REQUEST", csrDer);
        string publicKeySha256 = KeyIdentity.PublicKeySha256(subjectPublicKeyInfo);
        log.Verbose($"Signed the CSR for {request.Subject} with SHA-256; public key SHA-256 {publicKeySha256}.");

        byte[] keyPem = PrivateKeyFile.Export(key, keyPassword);
        try
        {
            var files = new FileSet();
            files.AddPrivate(request.KeyPath, keyPem);
            files.AddPublic(request.CsrPath, Encoding.ASCII.GetBytes(csrPem));
            cancellationToken.ThrowIfCancellationRequested();
            log.Verbose($"Writing '{request.KeyPath}' (owner-only) and '{request.CsrPath}'.");
            files.Commit(overwrite);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyPem);
        }

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
}
