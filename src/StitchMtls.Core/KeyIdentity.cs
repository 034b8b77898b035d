using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls;

/// <summary>Identifies a key pair by its public half, so a key, a CSR and a certificate can be matched.</summary>
public static class KeyIdentity
{
    /// <summary>
    /// Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo (RFC 5280 section 4.1.2.7), the value
    /// <c>openssl pkey -pubin -outform DER | sha256sum</c> prints, for confirming a CSR by phone.
    /// </summary>
    public static string PublicKeySha256(byte[] subjectPublicKeyInfo)
    {
        return Convert.ToHexString(SHA256.HashData(subjectPublicKeyInfo)).ToLowerInvariant();
    }

    public static byte[] SubjectPublicKeyInfo(AsymmetricAlgorithm key) => key.ExportSubjectPublicKeyInfo();

    public static byte[] SubjectPublicKeyInfo(X509Certificate2 certificate) =>
        certificate.PublicKey.ExportSubjectPublicKeyInfo();

    public static bool Matches(X509Certificate2 certificate, AsymmetricAlgorithm key)
    {
        return CryptographicOperations.FixedTimeEquals(SubjectPublicKeyInfo(certificate), SubjectPublicKeyInfo(key));
    }

    public static int KeySize(X509Certificate2 certificate)
    {
        using RSA? rsa = certificate.GetRSAPublicKey();
        if (rsa is not null)
        {
            return rsa.KeySize;
        }

        using ECDsa? ec = certificate.GetECDsaPublicKey();
        return ec?.KeySize ?? 0;
    }
}
