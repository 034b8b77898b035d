using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Platform;

namespace StitchMtls;

/// <summary>
/// The certificate a client presents: the leaf with its private key, and the intermediates sent with it so
/// the gateway can build the chain without any certificate store on either side.
/// </summary>
/// <remarks>
/// A certificate without a usable key can still be held here, so that the pre-flight check can say exactly
/// what is wrong with it instead of failing on load.
/// </remarks>
public sealed class ClientCertificate : IDisposable
{
    private ClientCertificate(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates,
        string? keyProblem)
    {
        Leaf = leaf;
        Intermediates = intermediates;
        KeyProblem = keyProblem;
    }

    public X509Certificate2 Leaf { get; }

    public IReadOnlyList<X509Certificate2> Intermediates { get; }

    /// <summary><c>KeyCertificateMismatch</c> when the key given is not the certificate's, else null.</summary>
    public string? KeyProblem { get; }

    public string CommonName => Leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    /// <summary>The DNS names in the subject alternative name extension, if any.</summary>
    public IReadOnlyList<string> DnsNames =>
        Leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(extension => extension.EnumerateDnsNames())
            .ToList();

    /// <summary>Loads a chain file (leaf first or in any order) and the key that belongs to its leaf.</summary>
    public static ClientCertificate FromFiles(string certificatePath, string keyPath, ReadOnlySpan<char> password)
    {
        IReadOnlyList<X509Certificate2> certificates = CertificateFile.Load(certificatePath);
        using AsymmetricAlgorithm key = PrivateKeyFile.Load(keyPath, password);
        try
        {
            ClientChain chain = ClientChain.Assemble(certificates, key, keyPath);
            return new ClientCertificate(TlsPlatform.AttachKey(chain.Leaf, key), chain.Intermediates, null);
        }
        catch (StitchMtlsException ex) when (ex.ErrorId == "KeyCertificateMismatch")
        {
            X509Certificate2 leaf = certificates.FirstOrDefault(c => !ClientChain.IsCertificateAuthority(c))
                ?? certificates[0];
            List<X509Certificate2> others = certificates
                .Where(c => c != leaf && !ClientChain.IsSelfIssued(c))
                .ToList();
            return new ClientCertificate(leaf, others, "KeyCertificateMismatch");
        }
    }

    /// <summary>A chain already assembled and checked against its key, such as a renewal being tested.</summary>
    internal static ClientCertificate FromChain(ClientChain chain, AsymmetricAlgorithm key) =>
        new(TlsPlatform.AttachKey(chain.Leaf, key), chain.Intermediates, null);

    /// <summary>Uses a certificate that should carry its key, e.g. an Azure Automation certificate asset.</summary>
    public static ClientCertificate FromCertificate(X509Certificate2 certificate,
        IEnumerable<X509Certificate2>? intermediates = null)
    {
        List<X509Certificate2> issuers = (intermediates ?? FindIssuersInStores(certificate))
            .Where(issuer => !ClientChain.IsSelfIssued(issuer) && issuer.Thumbprint != certificate.Thumbprint)
            .ToList();
        string? problem = certificate.HasPrivateKey && !OpenablePrivateKeyMatches(certificate)
            ? "KeyCertificateMismatch"
            : null;
        return new ClientCertificate(certificate, issuers, problem);
    }

    /// <summary>
    /// The key probe, with a key the running account may not open (Windows "Keyset does not exist", access
    /// denied) reported as such: it must never reach the TLS handshake and be mistaken for a gateway refusal.
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>PrivateKeyAccessDenied</c>.</exception>
    private static bool OpenablePrivateKeyMatches(X509Certificate2 certificate)
    {
        try
        {
            return PrivateKeyMatches(certificate);
        }
        catch (CryptographicException ex)
        {
            throw PrivateKeyAccessDenied(certificate, ex);
        }
    }

    internal static StitchMtlsException PrivateKeyAccessDenied(X509Certificate2 certificate, Exception inner)
    {
        string account = StorePlatform.CurrentAccount;
        return new StitchMtlsException("PrivateKeyAccessDenied", FailureCategory.PermissionDenied,
            $"The account '{account}' cannot open the private key of the certificate '{certificate.Subject}' " +
            $"(thumbprint {certificate.Thumbprint}): {inner.Message.Trim()} This is a key permission, not a TLS " +
            "problem. An administrator can grant access with: Grant-StitchKeyAccess -Thumbprint " +
            $"{certificate.Thumbprint} -Account '{account}'", certificate.Thumbprint, inner);
    }

    /// <summary>
    /// The intermediates the machine's certificate stores hold for <paramref name="certificate"/>: what the TLS
    /// stack would find on its own, made explicit so the pre-flight check and the context agree.
    /// </summary>
    private static IEnumerable<X509Certificate2> FindIssuersInStores(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.Build(certificate);
        return chain.ChainElements.Cast<X509ChainElement>().Skip(1).Select(element => element.Certificate).ToList();
    }

    internal SslStreamCertificateContext CreateContext()
    {
        return SslStreamCertificateContext.Create(Leaf, new X509Certificate2Collection(Intermediates.ToArray()),
            offline: true);
    }

    /// <summary>Signs and verifies a probe, the only check that works for keys that cannot be exported.</summary>
    private static bool PrivateKeyMatches(X509Certificate2 certificate)
    {
        byte[] probe = SHA256.HashData(certificate.RawData);
        using RSA? rsaPrivate = certificate.GetRSAPrivateKey();
        if (rsaPrivate is not null)
        {
            using RSA rsaPublic = certificate.GetRSAPublicKey()!;
            byte[] signature = rsaPrivate.SignHash(probe, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return rsaPublic.VerifyHash(probe, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }

        using ECDsa? ecPrivate = certificate.GetECDsaPrivateKey();
        if (ecPrivate is not null)
        {
            using ECDsa ecPublic = certificate.GetECDsaPublicKey()!;
            return ecPublic.VerifyHash(probe, ecPrivate.SignHash(probe));
        }

        return false;
    }

    public void Dispose() => Leaf.Dispose();
}
