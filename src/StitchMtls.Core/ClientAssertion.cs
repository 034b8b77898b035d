using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace StitchMtls;

/// <summary>
/// The client assertion of <c>private_key_jwt</c> client authentication (RFC 7523 section 2.2, OpenID Connect
/// Core section 9): a JWT signed with RS256 (RFC 7515, RFC 7518 section 3.3) by the client's registered key.
/// </summary>
/// <remarks>
/// Written here rather than with a JWT library: it is one header, five claims and one RSA signature, and a
/// library (Microsoft.IdentityModel.*) would load four more assemblies into every PowerShell session, where other
/// modules such as Az.Accounts bring their own versions of the same assemblies. The test gateway verifies the
/// result with Microsoft.IdentityModel.JsonWebTokens, an independent implementation.
/// </remarks>
public static class ClientAssertion
{
    /// <summary>The <c>client_assertion_type</c> for a JWT (RFC 7523 section 2.2).</summary>
    public const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>How long an assertion is valid: long enough for a slow network, short enough not to replay.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    private static readonly byte[] s_possessionChallenge = RandomNumberGenerator.GetBytes(32);

    /// <summary>Signs an assertion: iss = sub = <paramref name="clientId"/>, aud = <paramref name="audience"/>,
    /// a random jti, iat and nbf now, exp now + <see cref="Lifetime"/>.</summary>
    /// <exception cref="StitchMtlsException">
    /// <c>ClientAssertionKeyMissing</c> or <c>ClientAssertionKeyUnsupported</c>.
    /// </exception>
    public static string Create(string clientId, string audience, X509Certificate2 certificate, DateTimeOffset now)
    {
        using RSA key = OpenSigningKey(certificate);
        string header = Encode(new
        {
            alg = "RS256",
            typ = "JWT",
            kid = certificate.Thumbprint,
            x5t = Base64Url(certificate.GetCertHash()),
        });
        long issuedAt = now.ToUnixTimeSeconds();
        string payload = Encode(new
        {
            iss = clientId,
            sub = clientId,
            aud = audience,
            jti = Guid.NewGuid().ToString("N"),
            iat = issuedAt,
            nbf = issuedAt,
            exp = issuedAt + (long)Lifetime.TotalSeconds,
        });

        string signingInput = header + "." + payload;
        byte[] signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    /// <summary>
    /// Something only the holder of <paramref name="certificate"/>'s private key can produce: a keyed hash of an
    /// RS256 signature over a random per-process challenge. PKCS#1 v1.5 signatures are deterministic, so the same
    /// key always gives the same proof in this process; a thumbprint, by contrast, anyone with the public
    /// certificate knows.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// <c>ClientAssertionKeyMissing</c> or <c>ClientAssertionKeyUnsupported</c>.
    /// </exception>
    internal static string ProveKeyPossession(X509Certificate2 certificate)
    {
        using RSA key = OpenSigningKey(certificate);
        byte[] signature = key.SignData(s_possessionChallenge, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return SecretFingerprint.Of(Convert.ToBase64String(signature));
    }

    private static RSA OpenSigningKey(X509Certificate2 certificate)
    {
        if (!certificate.HasPrivateKey)
        {
            throw new StitchMtlsException("ClientAssertionKeyMissing", FailureCategory.InvalidArgument,
                $"The client assertion certificate '{certificate.Subject}' has no private key. Give the certificate " +
                "with the key registered with Stitch for private_key_jwt.", certificate.Thumbprint);
        }

        return certificate.GetRSAPrivateKey() ?? throw new StitchMtlsException("ClientAssertionKeyUnsupported",
            FailureCategory.InvalidArgument, $"The client assertion certificate '{certificate.Subject}' does not " +
            "have an RSA key; private_key_jwt with RS256 needs one.", certificate.Thumbprint);
    }

    private static string Encode(object value) => Base64Url(JsonSerializer.SerializeToUtf8Bytes(value));

    /// <summary>base64url without padding (RFC 7515 section 2); System.Buffers.Text.Base64Url is .NET 9 on.</summary>
    private static string Base64Url(byte[] data) =>
        Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
