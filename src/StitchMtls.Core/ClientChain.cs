using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls;

/// <summary>
/// A client certificate chain put in the order TLS and curl's <c>--cert</c> want (RFC 8446 section 4.4.2):
/// the leaf whose public key matches the private key, then each issuer up to the self-signed root.
/// </summary>
public sealed class ClientChain
{
    private ClientChain(X509Certificate2 leaf, IReadOnlyList<X509Certificate2> issuers, bool wasReordered,
        IReadOnlyList<X509Certificate2> unused)
    {
        Leaf = leaf;
        Issuers = issuers;
        WasReordered = wasReordered;
        Unused = unused;
    }

    public X509Certificate2 Leaf { get; }

    /// <summary>Intermediates and, when supplied, the root, nearest issuer first.</summary>
    public IReadOnlyList<X509Certificate2> Issuers { get; }

    public X509Certificate2? Root => Issuers.Count > 0 && IsSelfIssued(Issuers[^1]) ? Issuers[^1] : null;

    public IReadOnlyList<X509Certificate2> Intermediates =>
        Root is null ? Issuers : Issuers.Take(Issuers.Count - 1).ToList();

    /// <summary>True when the supplied order differed from leaf, intermediate, root.</summary>
    public bool WasReordered { get; }

    /// <summary>Supplied certificates that are not part of this chain.</summary>
    public IReadOnlyList<X509Certificate2> Unused { get; }

    public IEnumerable<X509Certificate2> InOrder => new[] { Leaf }.Concat(Issuers);

    /// <summary>
    /// Finds the leaf for <paramref name="key"/> among <paramref name="supplied"/> and orders its issuers.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// <c>KeyCertificateMismatch</c> when no certificate matches the key.
    /// </exception>
    public static ClientChain Assemble(IReadOnlyList<X509Certificate2> supplied, AsymmetricAlgorithm key,
        string keyPath)
    {
        List<X509Certificate2> distinct = supplied
            .GroupBy(certificate => certificate.Thumbprint, StringComparer.OrdinalIgnoreCase)
            .Select(group => group.First())
            .ToList();

        List<X509Certificate2> matching = distinct.Where(certificate => KeyIdentity.Matches(certificate, key)).ToList();
        X509Certificate2? leaf = matching.FirstOrDefault(certificate => !IsCertificateAuthority(certificate));
        if (leaf is null && matching.Count > 0)
        {
            throw new StitchMtlsException("KeyBelongsToCaCertificate", FailureCategory.InvalidData,
                $"The private key '{keyPath}' belongs to the CA certificate '{matching[0].Subject}', not to a " +
                "client certificate. Use the key that was generated with the client certificate's CSR.",
                keyPath);
        }

        if (leaf is null)
        {
            string subjects = string.Join("; ", distinct.Select(certificate => $"'{certificate.Subject}'"));
            throw new StitchMtlsException("KeyCertificateMismatch", FailureCategory.InvalidData,
                $"The private key '{keyPath}' does not belong to any of the supplied certificates " +
                $"({subjects}). Use the key that was generated with this certificate's CSR; nothing was written.",
                keyPath);
        }

        var issuers = new List<X509Certificate2>();
        X509Certificate2 current = leaf;
        while (!IsSelfIssued(current) && issuers.Count < distinct.Count)
        {
            X509Certificate2? issuer = FindIssuer(current, distinct);
            if (issuer is null || issuers.Contains(issuer))
            {
                break;
            }

            issuers.Add(issuer);
            current = issuer;
        }

        List<X509Certificate2> ordered = new[] { leaf }.Concat(issuers).ToList();
        List<X509Certificate2> suppliedOrder = distinct.Where(ordered.Contains).ToList();
        bool reordered = !ordered.SequenceEqual(suppliedOrder);
        List<X509Certificate2> unused = distinct.Where(certificate => !ordered.Contains(certificate)).ToList();
        return new ClientChain(leaf, issuers, reordered, unused);
    }

    /// <summary>Names the first certificate missing between the leaf and a self-signed root, or null.</summary>
    public string? DescribeMissing()
    {
        X509Certificate2 top = Issuers.Count > 0 ? Issuers[^1] : Leaf;
        if (IsSelfIssued(top))
        {
            return null;
        }

        string role = top == Leaf ? "intermediate CA certificate" : "issuing CA certificate";
        return $"the {role} '{top.Issuer}' that issued '{top.Subject}'";
    }

    public static bool IsCertificateAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault()?.CertificateAuthority == true;

    public static bool IsSelfIssued(X509Certificate2 certificate) =>
        certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);

    private static X509Certificate2? FindIssuer(X509Certificate2 child, IEnumerable<X509Certificate2> candidates)
    {
        List<X509Certificate2> byName = candidates
            .Where(candidate => candidate != child
                && candidate.SubjectName.RawData.AsSpan().SequenceEqual(child.IssuerName.RawData))
            .ToList();
        if (byName.Count <= 1)
        {
            return byName.FirstOrDefault();
        }

        // Same issuer name on two certificates (a re-keyed CA): the key identifiers decide (RFC 5280 4.2.1.1).
        byte[]? authorityKeyId = child.Extensions.OfType<X509AuthorityKeyIdentifierExtension>()
            .FirstOrDefault()?.KeyIdentifier?.ToArray();
        return byName.FirstOrDefault(candidate => authorityKeyId is not null
                && candidate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?
                    .SubjectKeyIdentifierBytes.Span.SequenceEqual(authorityKeyId) == true)
            ?? byName[0];
    }
}
