using System;
using System.IO;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.TestGateway.Pki;

/// <summary>
/// Creates the gateway's private CA, root then intermediate then server certificate, leaving any
/// part that already exists untouched.
/// </summary>
internal static class PrivateCertificateAuthority
{
    public const string RootSubject = "CN=StitchMtls Test Root CA, O=StitchMtls Test Gateway";

    public const string IntermediateSubject = "CN=StitchMtls Test Issuing CA, O=StitchMtls Test Gateway";

    public const string ServerSubject = "CN=localhost, O=StitchMtls Test Gateway";

    /// <summary>The only name in server-other.pem: a host the clients in tests never connect to by name.</summary>
    public const string OtherHostName = "other.example.com";

    public const string OtherHostSubject = "CN=" + OtherHostName + ", O=StitchMtls Test Gateway";

    private const int KeySize = 2048;

    /// <summary>
    /// The CAs are backdated and long-lived so that the signing desk can issue leaves that expired,
    /// or start, well away from today.
    /// </summary>
    private static readonly TimeSpan s_authorityBackdating = TimeSpan.FromDays(3650);

    private static readonly TimeSpan s_authorityLifetime = TimeSpan.FromDays(3650 * 3);

    private static readonly TimeSpan s_serverLifetime = TimeSpan.FromDays(3650);

    /// <summary>Creates whatever part of the CA in <paramref name="pki"/> is missing.</summary>
    /// <exception cref="GatewayInputException">A certificate exists without its key, or the reverse.</exception>
    public static void EnsureCreated(PkiDirectory pki)
    {
        Directory.CreateDirectory(pki.FullPath);

        using X509Certificate2 root = LoadOrCreate(
            pki.RootCertificatePath,
            pki.RootKeyPath,
            CreateRoot);
        using X509Certificate2 intermediate = LoadOrCreate(
            pki.IntermediateCertificatePath,
            pki.IntermediateKeyPath,
            key => CreateIntermediate(key, root));
        using X509Certificate2 server = LoadOrCreate(
            pki.ServerCertificatePath,
            pki.ServerKeyPath,
            key => CreateServer(key, intermediate, ServerSubject, LoopbackNames()));

        if (!File.Exists(pki.ServerChainPath))
        {
            PemFile.WriteCertificates(pki.ServerChainPath, [server, intermediate], overwrite: false);
        }
    }

    /// <summary>
    /// Returns the files of the server certificate of <paramref name="kind"/>, creating the certificate if it is
    /// missing. server.pem must already exist (the <c>pki</c> command makes it); the other kinds are made here, on
    /// first use, and reused after that.
    /// </summary>
    /// <exception cref="GatewayInputException">A file the certificate needs is missing.</exception>
    public static ServerCertificateFiles EnsureServerCertificate(PkiDirectory pki, ServerCertificateKind kind)
    {
        ServerCertificateFiles files = pki.ServerFiles(kind);
        if (kind == ServerCertificateKind.OtherHost)
        {
            EnsureOtherHostServer(pki, files);
        }
        else if (kind == ServerCertificateKind.SelfSigned)
        {
            LoadOrCreate(files.CertificatePath, files.KeyPath, CreateSelfSignedServer).Dispose();
        }

        PemFile.RequireFile(files.CertificatePath);
        PemFile.RequireFile(files.KeyPath);
        PemFile.RequireFile(files.ChainPath);
        return files;
    }

    private static void EnsureOtherHostServer(PkiDirectory pki, ServerCertificateFiles files)
    {
        var otherHost = new SubjectAlternativeNameBuilder();
        otherHost.AddDnsName(OtherHostName);

        using X509Certificate2 intermediate = PemFile.ReadCertificateWithKey(
            pki.IntermediateCertificatePath,
            pki.IntermediateKeyPath);
        using X509Certificate2 server = LoadOrCreate(
            files.CertificatePath,
            files.KeyPath,
            key => CreateServer(key, intermediate, OtherHostSubject, otherHost));

        if (!File.Exists(files.ChainPath))
        {
            PemFile.WriteCertificates(files.ChainPath, [server, intermediate], overwrite: false);
        }
    }

    private static X509Certificate2 LoadOrCreate(
        string certificatePath,
        string keyPath,
        Func<RSA, X509Certificate2> create)
    {
        bool hasCertificate = File.Exists(certificatePath);
        bool hasKey = File.Exists(keyPath);
        if (hasCertificate && hasKey)
        {
            return PemFile.ReadCertificateWithKey(certificatePath, keyPath);
        }

        if (hasCertificate || hasKey)
        {
            string present = hasCertificate ? certificatePath : keyPath;
            string missing = hasCertificate ? keyPath : certificatePath;
            throw new GatewayInputException(
                $"Cannot complete the PKI: '{present}' exists but '{missing}' does not. "
                + "Restore the missing file or remove both.");
        }

        using RSA key = RSA.Create(KeySize);
        using X509Certificate2 certificate = create(key);
        PemFile.WritePrivateKey(keyPath, key, overwrite: false);
        PemFile.WriteCertificates(certificatePath, [certificate], overwrite: false);
        return PemFile.ReadCertificateWithKey(certificatePath, keyPath);
    }

    private static X509Certificate2 CreateRoot(RSA key)
    {
        var request = new CertificateRequest(RootSubject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        CertificateExtensions.AddAuthorityExtensions(request, pathLengthConstraint: null);

        DateTimeOffset notBefore = DateTimeOffset.UtcNow - s_authorityBackdating;
        return request.CreateSelfSigned(notBefore, notBefore + s_authorityLifetime);
    }

    private static X509Certificate2 CreateIntermediate(RSA key, X509Certificate2 root)
    {
        var request = new CertificateRequest(
            IntermediateSubject,
            key,
            HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        CertificateExtensions.AddAuthorityExtensions(request, pathLengthConstraint: 0);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(
            root,
            includeKeyIdentifier: true,
            includeIssuerAndSerial: false));

        return request.Create(root, root.NotBefore, root.NotAfter, CertificateExtensions.NewSerialNumber());
    }

    private static X509Certificate2 CreateServer(
        RSA key,
        X509Certificate2 intermediate,
        string subject,
        SubjectAlternativeNameBuilder alternativeNames)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        CertificateExtensions.AddEndEntityExtensions(
            request,
            intermediate,
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment,
            CertificateExtensions.ServerAuthentication);
        request.CertificateExtensions.Add(alternativeNames.Build(critical: false));

        DateTimeOffset notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        DateTimeOffset notAfter = Min(notBefore + s_serverLifetime, intermediate.NotAfter);
        return request.Create(intermediate, notBefore, notAfter, CertificateExtensions.NewSerialNumber());
    }

    /// <summary>A server leaf for the right names that signs itself: clients trusting root.pem refuse it.</summary>
    private static X509Certificate2 CreateSelfSignedServer(RSA key)
    {
        var request = new CertificateRequest(ServerSubject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(
            certificateAuthority: false,
            hasPathLengthConstraint: false,
            pathLengthConstraint: 0,
            critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment,
            critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            new OidCollection { CertificateExtensions.ServerAuthentication },
            critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(LoopbackNames().Build(critical: false));

        DateTimeOffset notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        return request.CreateSelfSigned(notBefore, notBefore + s_serverLifetime);
    }

    private static SubjectAlternativeNameBuilder LoopbackNames()
    {
        var alternativeNames = new SubjectAlternativeNameBuilder();
        alternativeNames.AddDnsName("localhost");
        alternativeNames.AddIpAddress(IPAddress.Loopback);
        return alternativeNames;
    }

    private static DateTimeOffset Min(DateTimeOffset first, DateTimeOffset second) =>
        first <= second ? first : second;
}
