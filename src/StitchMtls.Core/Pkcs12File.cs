using System;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls;

/// <summary>
/// Builds a PKCS#12 (RFC 7292) holding the key and the whole chain, encrypted with AES-256-CBC under PBKDF2
/// with HMAC-SHA256 and sealed with an HMAC-SHA256 MAC, instead of the legacy 3DES/RC2 defaults.
/// </summary>
internal static class Pkcs12File
{
    // .NET refuses to load a PKCS#12 whose key derivations add up to more than 600,000 iterations; three
    // derivations (certificates, key, MAC) at 100,000 each stay well inside that.
    private const int Iterations = 100_000;

    public static byte[] Build(ClientChain chain, AsymmetricAlgorithm key, ReadOnlySpan<char> password)
    {
        if (password.IsEmpty)
        {
            throw new StitchMtlsException("PfxPasswordRequired", FailureCategory.InvalidArgument,
                "A PKCS#12 file holds the private key and must be protected. Supply -PfxPassword.", null);
        }

        var pbe = new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, Iterations);
        var localKeyId = new Pkcs9LocalKeyId(SHA256.HashData(chain.Leaf.RawData).AsSpan(0, 20));
        string friendlyName = $"Stitch mTLS {chain.Leaf.GetNameInfo(X509NameType.SimpleName, false)}";

        var certificates = new Pkcs12SafeContents();
        foreach (X509Certificate2 certificate in chain.InOrder)
        {
            Pkcs12CertBag bag = certificates.AddCertificate(certificate);
            if (certificate == chain.Leaf)
            {
                bag.Attributes.Add(localKeyId);
                bag.Attributes.Add(new Pkcs9AttributeObject(new AsnEncodedData("1.2.840.113549.1.9.20",
                    EncodeBmpString(friendlyName))));
            }
        }

        var keys = new Pkcs12SafeContents();
        Pkcs12ShroudedKeyBag keyBag = keys.AddShroudedKey(key, password, pbe);
        keyBag.Attributes.Add(localKeyId);

        var builder = new Pkcs12Builder();
        builder.AddSafeContentsEncrypted(certificates, password, pbe);
        builder.AddSafeContentsUnencrypted(keys);
        builder.SealWithMac(password, HashAlgorithmName.SHA256, Iterations);
        return builder.Encode();
    }

    private static byte[] EncodeBmpString(string value)
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        writer.WriteCharacterString(System.Formats.Asn1.UniversalTagNumber.BMPString, value);
        return writer.Encode();
    }
}
