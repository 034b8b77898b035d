using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Pem;

namespace StitchMtls;

/// <summary>Reads X.509 certificates from PEM files (one or many blocks) or a single DER certificate.</summary>
public static class CertificateFile
{
    /// <exception cref="StitchMtlsException">
    /// <c>CertificateFileNotFound</c> or <c>CertificateFileInvalid</c>.
    /// </exception>
    public static IReadOnlyList<X509Certificate2> Load(string path)
    {
        if (Directory.Exists(path))
        {
            throw new StitchMtlsException("CertificateFileIsFolder", FailureCategory.InvalidArgument,
                $"'{path}' is a folder. Give the certificate or chain file itself, such as " +
                $"'{path}/stitch-mtls-chain.pem'.",
                path);
        }

        if (!File.Exists(path))
        {
            throw new StitchMtlsException("CertificateFileNotFound", FailureCategory.ObjectNotFound,
                $"Cannot find the certificate file '{path}' because it does not exist.", path);
        }

        // Opening a named pipe blocks until something writes to it, and a device may never end: a scan must not
        // hang on them. Pipes, sockets and devices report a size of 0, as does an empty file, which holds no
        // certificate either, so neither is opened.
        if (new FileInfo(path).Length == 0)
        {
            throw new StitchMtlsException("CertificateFileInvalid", FailureCategory.InvalidData,
                $"The file '{path}' is empty, or is a pipe, socket or device rather than a regular file; it was " +
                "not opened.", path);
        }

        byte[] content = ReadAllBytes(path, "CertificateFileUnreadable");
        IReadOnlyList<X509Certificate2> certificates = Parse(content);
        if (certificates.Count == 0)
        {
            string message = IsPasswordProtectedPkcs12(content)
                ? $"The file '{path}' is a password-protected PKCS#12 (.pfx) file, which this command cannot read. " +
                  "Import it with Import-StitchChain -PfxPath -PfxPassword, or export its certificates to PEM: " +
                  $"openssl pkcs12 -in '{path}' -nokeys -out chain.pem."
                : $"The file '{path}' contains no certificate. Expected PEM blocks 'BEGIN CERTIFICATE' or one DER " +
                  "certificate.";
            throw new StitchMtlsException("CertificateFileInvalid", FailureCategory.InvalidData, message, path);
        }

        return certificates;
    }

    /// <summary>
    /// True for a PKCS#12 (RFC 7292) whose MAC does not verify without a password: X509Certificate2 reads an
    /// unprotected one as a DER certificate, so only a protected one is left without certificates.
    /// </summary>
    private static bool IsPasswordProtectedPkcs12(byte[] content)
    {
        try
        {
            Pkcs12Info info = Pkcs12Info.Decode(content, out _, skipCopy: true);
            return info.IntegrityMode == Pkcs12IntegrityMode.Password
                && !info.VerifyMac(ReadOnlySpan<char>.Empty) && !info.VerifyMac((string?)null);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>Reads a file, turning permission and I/O failures into an error the user can act on.</summary>
    internal static byte[] ReadAllBytes(string path, string errorId)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new StitchMtlsException(errorId, FailureCategory.PermissionDenied,
                $"Cannot read '{path}' because access is denied. Run as an account that may read it.", path, ex);
        }
        catch (IOException ex)
        {
            throw new StitchMtlsException(errorId, FailureCategory.ReadError, $"Cannot read '{path}': {ex.Message}",
                path, ex);
        }
    }

    /// <summary>The certificates in <paramref name="content"/>; empty when it holds none.</summary>
    public static IReadOnlyList<X509Certificate2> Parse(byte[] content)
    {
        var certificates = new List<X509Certificate2>();
        if (PemDocument.LooksLikePem(content))
        {
            foreach (PemBlock block in PemDocument.ReadBlocks(content))
            {
                if (block.Label is "CERTIFICATE" or "TRUSTED CERTIFICATE" or "X509 CERTIFICATE")
                {
                    TryAdd(certificates, block.Data);
                }
            }
        }
        else if (content.Length > 0 && content[0] == 0x30)
        {
            TryAdd(certificates, content);
        }

        return certificates;
    }

    public static string ToPem(IEnumerable<X509Certificate2> certificates)
    {
        var text = new System.Text.StringBuilder();
        foreach (X509Certificate2 certificate in certificates)
        {
            text.Append(PemDocument.Write("CERTIFICATE", certificate.RawData));
        }

        return text.ToString();
    }

    private static void TryAdd(List<X509Certificate2> certificates, byte[] der)
    {
        try
        {
            certificates.Add(new X509Certificate2(der));
        }
        catch (CryptographicException)
        {
            // A block that is not a certificate is passed over, like any other text in the file.
        }
    }
}
