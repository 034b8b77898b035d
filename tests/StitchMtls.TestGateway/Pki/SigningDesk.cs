using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace StitchMtls.TestGateway.Pki;

/// <summary>
/// Stitch's onboarding desk in miniature: takes a client's PKCS#10 request (RFC 2986) and returns
/// a client certificate signed by the intermediate, with the subject exactly as the client wrote it.
/// </summary>
internal sealed class SigningDesk : IDisposable
{
    private readonly X509Certificate2 _intermediate;
    private readonly X509Certificate2 _root;

    private SigningDesk(X509Certificate2 intermediate, X509Certificate2 root)
    {
        _intermediate = intermediate;
        _root = root;
    }

    /// <exception cref="GatewayInputException">The PKI lacks the intermediate, its key or the root.</exception>
    public static SigningDesk Open(PkiDirectory pki)
    {
        X509Certificate2 intermediate = PemFile.ReadCertificateWithKey(
            pki.IntermediateCertificatePath,
            pki.IntermediateKeyPath);
        try
        {
            return new SigningDesk(intermediate, PemFile.ReadCertificate(pki.RootCertificatePath));
        }
        catch
        {
            intermediate.Dispose();
            throw;
        }
    }

    /// <summary>Reads a PEM or DER certificate signing request and checks its self-signature.</summary>
    /// <exception cref="GatewayInputException">The file is missing, malformed or its signature is bad.</exception>
    public static CertificateRequest ReadSigningRequest(string path)
    {
        PemFile.RequireFile(path);
        return ParseSigningRequest(File.ReadAllBytes(path), $"'{path}'");
    }

    /// <summary>Parses a PEM or DER certificate signing request and checks its self-signature.</summary>
    /// <param name="content">The request's bytes.</param>
    /// <param name="source">Where the bytes came from, for the error message.</param>
    /// <exception cref="GatewayInputException">The request is malformed or its signature is bad.</exception>
    public static CertificateRequest ParseSigningRequest(byte[] content, string source)
    {
        try
        {
            return LooksLikePem(content)
                ? CertificateRequest.LoadSigningRequestPem(
                    Encoding.ASCII.GetString(content),
                    HashAlgorithmName.SHA256,
                    CertificateRequestLoadOptions.Default,
                    RSASignaturePadding.Pkcs1)
                : CertificateRequest.LoadSigningRequest(
                    content,
                    HashAlgorithmName.SHA256,
                    CertificateRequestLoadOptions.Default,
                    RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException e)
        {
            throw new GatewayInputException(
                $"The certificate signing request from {source} is malformed or its signature is not valid: "
                + e.Message,
                e);
        }
        catch (NotSupportedException e)
        {
            throw new GatewayInputException(
                $"The certificate signing request from {source} uses a key or signature .NET cannot check: "
                + e.Message,
                e);
        }
    }

    /// <summary>Signs <paramref name="request"/> with the intermediate and returns the new leaf.</summary>
    /// <param name="request">A request from <see cref="ReadSigningRequest"/>; its extensions are ignored.</param>
    /// <param name="validity">The leaf's validity; it must lie within the intermediate's.</param>
    /// <param name="clientAuthentication">False to leave out the extended key usage extension.</param>
    /// <exception cref="GatewayInputException">The validity falls outside the intermediate's.</exception>
    public X509Certificate2 Sign(CertificateRequest request, ValidityPeriod validity, bool clientAuthentication)
    {
        if (validity.NotBefore < _intermediate.NotBefore || validity.NotAfter > _intermediate.NotAfter)
        {
            throw new GatewayInputException(
                $"The validity {validity.NotBefore:u} to {validity.NotAfter:u} falls outside the issuing CA's "
                + $"{_intermediate.NotBefore.ToUniversalTime():u} to {_intermediate.NotAfter.ToUniversalTime():u}.");
        }

        request.CertificateExtensions.Clear();
        CertificateExtensions.AddEndEntityExtensions(
            request,
            _intermediate,
            X509KeyUsageFlags.DigitalSignature,
            clientAuthentication ? CertificateExtensions.ClientAuthentication : null);

        // LoadSigningRequest keeps the subject's DER as the client encoded it, and Create copies those bytes.
        // The generator overload signs a client key of any algorithm (RSA, ECDSA) with the intermediate's RSA key.
        using RSA issuerKey = _intermediate.GetRSAPrivateKey()
            ?? throw new GatewayInputException("The issuing CA's key is not an RSA key.");
        return request.Create(
            _intermediate.SubjectName,
            X509SignatureGenerator.CreateForRSA(issuerKey, RSASignaturePadding.Pkcs1),
            validity.NotBefore,
            validity.NotAfter,
            CertificateExtensions.NewSerialNumber());
    }

    /// <summary>The chain a client presents: <paramref name="leaf"/>, the intermediate, the root.</summary>
    public IReadOnlyList<X509Certificate2> ChainOf(X509Certificate2 leaf) => [leaf, _intermediate, _root];

    public void Dispose()
    {
        _intermediate.Dispose();
        _root.Dispose();
    }

    private static bool LooksLikePem(byte[] content)
    {
        string head = Encoding.ASCII.GetString(content, 0, Math.Min(content.Length, 4096));
        return head.Contains("-----BEGIN", StringComparison.Ordinal);
    }
}
