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
public sealed class ClientCertificate : IDisposable
{
    public ClientCertificate(X509Certificate2 leafWithKey, IReadOnlyList<X509Certificate2> intermediates)
    {
        if (!leafWithKey.HasPrivateKey)
        {
            throw new StitchMtlsException("PrivateKeyMissing", FailureCategory.InvalidArgument,
                $"The certificate '{leafWithKey.Subject}' has no private key, so it cannot authenticate a TLS " +
                "client. Supply a certificate with its key, or -CertificatePath with -KeyPath.",
                leafWithKey.Subject);
        }

        Leaf = leafWithKey;
        Intermediates = intermediates;
    }

    public X509Certificate2 Leaf { get; }

    public IReadOnlyList<X509Certificate2> Intermediates { get; }

    public string CommonName => Leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    /// <summary>Loads a chain file (leaf first or in any order) and the key that belongs to its leaf.</summary>
    public static ClientCertificate FromFiles(string certificatePath, string keyPath, ReadOnlySpan<char> password)
    {
        IReadOnlyList<X509Certificate2> certificates = CertificateFile.Load(certificatePath);
        using AsymmetricAlgorithm key = PrivateKeyFile.Load(keyPath, password);
        ClientChain chain = ClientChain.Assemble(certificates, key, $"'{keyPath}'");
        return new ClientCertificate(TlsPlatform.AttachKey(chain.Leaf, key), chain.Intermediates);
    }

    /// <summary>Uses a certificate that already carries its key, e.g. an Azure Automation certificate asset.</summary>
    public static ClientCertificate FromCertificate(X509Certificate2 certificate,
        IEnumerable<X509Certificate2>? intermediates = null)
    {
        List<X509Certificate2> issuers = (intermediates ?? Enumerable.Empty<X509Certificate2>())
            .Where(issuer => !ClientChain.IsSelfIssued(issuer) && issuer.Thumbprint != certificate.Thumbprint)
            .ToList();
        return new ClientCertificate(certificate, issuers);
    }

    internal SslStreamCertificateContext CreateContext()
    {
        return SslStreamCertificateContext.Create(Leaf, new X509Certificate2Collection(Intermediates.ToArray()),
            offline: true);
    }

    public void Dispose() => Leaf.Dispose();
}
