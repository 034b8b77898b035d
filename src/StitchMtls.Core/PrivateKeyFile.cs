using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Text;
using StitchMtls.Pem;

namespace StitchMtls;

/// <summary>How a private key file is protected at rest.</summary>
public enum KeyProtection
{
    Plain,
    Encrypted,

    /// <summary>Held by a Windows CNG key storage provider; never a file.</summary>
    KeyStorageProvider,
}

/// <summary>
/// Reads and writes private key files: PKCS#1 (<c>RSA PRIVATE KEY</c>, RFC 8017), PKCS#8 (<c>PRIVATE KEY</c>,
/// RFC 5208) and encrypted PKCS#8 (<c>ENCRYPTED PRIVATE KEY</c>, RFC 5958 with PBES2, RFC 8018).
/// </summary>
public static class PrivateKeyFile
{
    /// <summary>PBKDF2-HMAC-SHA256 iterations for new encrypted keys; OWASP's 2023 guidance.</summary>
    public const int Pbkdf2Iterations = 600_000;

    /// <exception cref="StitchMtlsException">
    /// <c>KeyFileNotFound</c>, <c>KeyFileInvalid</c>, <c>KeyPasswordRequired</c> or <c>KeyPasswordIncorrect</c>.
    /// </exception>
    public static AsymmetricAlgorithm Load(string path, ReadOnlySpan<char> password)
    {
        if (!File.Exists(path))
        {
            throw new StitchMtlsException("KeyFileNotFound", FailureCategory.ObjectNotFound,
                $"Cannot find the private key file '{path}' because it does not exist.", path);
        }

        byte[] content = CertificateFile.ReadAllBytes(path, "KeyFileUnreadable");
        try
        {
            return Parse(content, password, path);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }

    internal static AsymmetricAlgorithm Parse(byte[] content, ReadOnlySpan<char> password, string path)
    {
        if (!PemDocument.LooksLikePem(content))
        {
            throw Invalid(path, "it contains no PEM block. Expected 'BEGIN PRIVATE KEY', 'BEGIN RSA PRIVATE KEY' " +
                "or 'BEGIN ENCRYPTED PRIVATE KEY'");
        }

        if (PemDocument.HasLegacyEncryptionHeader(content))
        {
            throw new StitchMtlsException("KeyFormatUnsupported", FailureCategory.InvalidData,
                $"The private key file '{path}' uses OpenSSL's legacy PEM encryption (Proc-Type: 4,ENCRYPTED), which " +
                "is weak and not supported. Convert it once to encrypted PKCS#8: openssl pkcs8 -topk8 -v2 " +
                "aes-256-cbc -in old.key -out new.key", path);
        }

        foreach (PemBlock block in PemDocument.ReadBlocks(content))
        {
            try
            {
                switch (block.Label)
                {
                    case "RSA PRIVATE KEY":
                        return ImportRsaPkcs1(block.Data, path);
                    case "PRIVATE KEY":
                        return ImportPkcs8(block.Data, path);
                    case "ENCRYPTED PRIVATE KEY":
                        return ImportEncryptedPkcs8(block.Data, password, path);
                    case "EC PRIVATE KEY":
                        return ImportEcKey(block.Data, path);
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(block.Data);
            }
        }

        throw Invalid(path, "it holds no private key block. Expected 'BEGIN PRIVATE KEY', 'BEGIN RSA PRIVATE KEY' " +
            "or 'BEGIN ENCRYPTED PRIVATE KEY'; a certificate or CSR is not a key");
    }

    /// <summary>
    /// PEM text of the key as PKCS#8, encrypted with AES-256-CBC and PBKDF2 when a password is given.
    /// </summary>
    public static byte[] Export(AsymmetricAlgorithm key, ReadOnlySpan<char> password)
    {
        byte[] der = password.IsEmpty
            ? key.ExportPkcs8PrivateKey()
            : key.ExportEncryptedPkcs8PrivateKey(password,
                new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, Pbkdf2Iterations));
        char[] pem = PemEncoding.Write(password.IsEmpty ? "PRIVATE KEY" : "ENCRYPTED PRIVATE KEY", der);
        try
        {
            byte[] bytes = new byte[Encoding.ASCII.GetByteCount(pem) + 1];
            Encoding.ASCII.GetBytes(pem, bytes);
            bytes[^1] = (byte)'\n';
            return bytes;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
            Array.Clear(pem);
        }
    }

    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";

    private static AsymmetricAlgorithm ImportRsaPkcs1(byte[] der, string path) =>
        Import(RSA.Create(), key => key.ImportRSAPrivateKey(der, out _), path, "'RSA PRIVATE KEY' block",
            "PKCS#1 key");

    private static AsymmetricAlgorithm ImportEcKey(byte[] der, string path) =>
        Import(ECDsa.Create(), key => key.ImportECPrivateKey(der, out _), path, "'EC PRIVATE KEY' block",
            "SEC 1 EC key");

    /// <summary>Imports a PKCS#8 key as the algorithm its AlgorithmIdentifier names.</summary>
    private static AsymmetricAlgorithm ImportPkcs8(byte[] der, string path)
    {
        string? algorithm;
        try
        {
            algorithm = Pkcs8PrivateKeyInfo.Decode(der, out _, skipCopy: true).AlgorithmId.Value;
        }
        catch (CryptographicException ex)
        {
            throw Invalid(path, "its 'PRIVATE KEY' block is not a valid PKCS#8 key", ex);
        }

        return algorithm switch
        {
            RsaOid => Import(RSA.Create(), key => key.ImportPkcs8PrivateKey(der, out _), path, "'PRIVATE KEY' block",
                "PKCS#8 RSA key"),
            EcPublicKeyOid => Import(ECDsa.Create(), key => key.ImportPkcs8PrivateKey(der, out _), path,
                "'PRIVATE KEY' block", "PKCS#8 EC key"),
            _ => throw Invalid(path, $"its key algorithm ({algorithm}) is neither RSA nor EC"),
        };
    }

    private static T Import<T>(T key, Action<T> import, string path, string block, string expected)
        where T : AsymmetricAlgorithm
    {
        try
        {
            import(key);
            return key;
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw Invalid(path, $"its {block} is not a valid {expected}", ex);
        }
    }

    private static AsymmetricAlgorithm ImportEncryptedPkcs8(byte[] der, ReadOnlySpan<char> password, string path)
    {
        if (password.IsEmpty)
        {
            throw new StitchMtlsException("KeyPasswordRequired", FailureCategory.InvalidArgument,
                $"The private key file '{path}' is encrypted. Supply its password with -KeyPassword.", path);
        }

        byte[] plain;
        try
        {
            var info = Pkcs8PrivateKeyInfo.DecryptAndDecode(password, der, out _);
            plain = info.Encode();
        }
        catch (CryptographicException ex)
        {
            // PBES2 has no separate integrity check: a wrong password shows up as bad padding or as garbage
            // that does not parse. A structurally broken file fails before decryption, on the outer ASN.1.
            if (IsWellFormedEncryptedKey(der))
            {
                throw new StitchMtlsException("KeyPasswordIncorrect", FailureCategory.AuthenticationError,
                    $"The password for the private key file '{path}' is incorrect.", path, ex);
            }

            throw Invalid(path, "its 'ENCRYPTED PRIVATE KEY' block is not a valid encrypted PKCS#8 key", ex);
        }

        try
        {
            return ImportPkcs8(plain, path);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private static bool IsWellFormedEncryptedKey(byte[] der)
    {
        try
        {
            var reader = new System.Formats.Asn1.AsnReader(der, System.Formats.Asn1.AsnEncodingRules.DER);
            System.Formats.Asn1.AsnReader sequence = reader.ReadSequence();
            sequence.ReadSequence();
            sequence.ReadOctetString();
            return !sequence.HasData && !reader.HasData;
        }
        catch (System.Formats.Asn1.AsnContentException)
        {
            return false;
        }
    }

    private static StitchMtlsException Invalid(string path, string reason, Exception? inner = null)
    {
        return new StitchMtlsException("KeyFileInvalid", FailureCategory.InvalidData,
            $"Cannot read the private key file '{path}' because {reason}.", path, inner);
    }
}
