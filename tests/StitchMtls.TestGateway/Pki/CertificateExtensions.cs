using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.TestGateway.Pki;

/// <summary>The X.509 v3 extensions (RFC 5280, section 4.2) the private CA puts on what it issues.</summary>
internal static class CertificateExtensions
{
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "TLS Web Server Authentication");

    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "TLS Web Client Authentication");

    /// <summary>A CA: basicConstraints cA=TRUE (with pathLen if given), keyCertSign and cRLSign.</summary>
    public static void AddAuthorityExtensions(CertificateRequest request, int? pathLengthConstraint)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(
            certificateAuthority: true,
            hasPathLengthConstraint: pathLengthConstraint.HasValue,
            pathLengthConstraint: pathLengthConstraint ?? 0,
            critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign,
            critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
    }

    /// <summary>An end entity: cA=FALSE, the given key usage and, if any, one extended key usage.</summary>
    public static void AddEndEntityExtensions(
        CertificateRequest request,
        X509Certificate2 issuer,
        X509KeyUsageFlags keyUsage,
        Oid? extendedKeyUsage)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(
            certificateAuthority: false,
            hasPathLengthConstraint: false,
            pathLengthConstraint: 0,
            critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(keyUsage, critical: true));
        if (extendedKeyUsage is not null)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                new OidCollection { extendedKeyUsage },
                critical: false));
        }

        AddKeyIdentifiers(request, issuer);
    }

    /// <summary>The new certificate's subject key identifier and its issuer's authority key identifier.</summary>
    public static void AddKeyIdentifiers(CertificateRequest request, X509Certificate2 issuer)
    {
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(
            issuer,
            includeKeyIdentifier: true,
            includeIssuerAndSerial: false));
    }

    /// <summary>A random positive serial number of 16 bytes (RFC 5280, section 4.1.2.2).</summary>
    public static byte[] NewSerialNumber()
    {
        byte[] serial = RandomNumberGenerator.GetBytes(16);

        // Clear the sign bit and keep the first byte non-zero, so the DER INTEGER is positive and minimal.
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }
}
