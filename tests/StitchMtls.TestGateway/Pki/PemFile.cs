using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace StitchMtls.TestGateway.Pki;

/// <summary>
/// Reads and writes the PEM files of the private CA (RFC 7468). Private keys are PKCS#8 and
/// readable by their owner only.
/// </summary>
internal static class PemFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode WorldReadable =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <exception cref="GatewayInputException">The file does not exist or holds no usable certificate.</exception>
    public static X509Certificate2 ReadCertificate(string path)
    {
        RequireFile(path);
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (CryptographicException e)
        {
            throw new GatewayInputException($"Cannot read a certificate from '{path}': {e.Message}", e);
        }
    }

    /// <exception cref="GatewayInputException">Either file is missing or they do not belong together.</exception>
    public static X509Certificate2 ReadCertificateWithKey(string certificatePath, string keyPath)
    {
        RequireFile(certificatePath);
        RequireFile(keyPath);
        try
        {
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (CryptographicException e)
        {
            throw new GatewayInputException(
                $"Cannot pair the certificate '{certificatePath}' with the key '{keyPath}': {e.Message}", e);
        }
    }

    /// <summary>Writes a private key as PKCS#8 PEM with mode 0600.</summary>
    /// <param name="overwrite">False to fail rather than replace an existing file.</param>
    public static void WritePrivateKey(string path, AsymmetricAlgorithm key, bool overwrite)
    {
        Write(path, key.ExportPkcs8PrivateKeyPem() + "\n", OwnerOnly, overwrite);
    }

    /// <summary>Writes one or more certificates, in the given order, as PEM with mode 0644.</summary>
    /// <param name="overwrite">False to fail rather than replace an existing file.</param>
    public static void WriteCertificates(string path, IEnumerable<X509Certificate2> certificates, bool overwrite)
    {
        var pem = new StringBuilder();
        foreach (X509Certificate2 certificate in certificates)
        {
            pem.Append(certificate.ExportCertificatePem()).Append('\n');
        }

        Write(path, pem.ToString(), WorldReadable, overwrite);
    }

    public static void RequireFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new GatewayInputException($"Cannot find path '{path}' because it does not exist.");
        }
    }

    private static void Write(string path, string content, UnixFileMode mode, bool overwrite)
    {
        var options = new FileStreamOptions
        {
            Mode = overwrite ? FileMode.Create : FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using var stream = new FileStream(path, options);
        if (!OperatingSystem.IsWindows())
        {
            // An existing file keeps its old mode when it is truncated: set it again.
            File.SetUnixFileMode(stream.SafeFileHandle, mode);
        }

        byte[] bytes = Encoding.ASCII.GetBytes(content);
        stream.Write(bytes, 0, bytes.Length);
    }
}
