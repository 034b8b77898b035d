using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Xunit;

namespace StitchMtls.Tests;

public class ClientAssertionTests
{
    [Fact]
    public void SignsRs256WithTheClaimsPrivateKeyJwtNeeds()
    {
        using var key = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "jwt.example.com");
        using X509Certificate2 signing = leaf.CopyWithPrivateKey(key);
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

        string[] parts = ClientAssertion.Create("client-1", StitchEndpoint.TokenAudience, signing, now).Split('.');

        using JsonDocument header = JsonDocument.Parse(Decode(parts[0]));
        using JsonDocument claims = JsonDocument.Parse(Decode(parts[1]));
        Assert.Equal("RS256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("client-1", claims.RootElement.GetProperty("iss").GetString());
        Assert.Equal("client-1", claims.RootElement.GetProperty("sub").GetString());
        Assert.Equal(StitchEndpoint.TokenAudience, claims.RootElement.GetProperty("aud").GetString());
        Assert.Equal(1_800_000_000 + 120, claims.RootElement.GetProperty("exp").GetInt64());
        Assert.False(string.IsNullOrEmpty(claims.RootElement.GetProperty("jti").GetString()));
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Decode(parts[2]),
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void GivesEachAssertionItsOwnJti()
    {
        using var key = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "jwt.example.com");
        using X509Certificate2 signing = leaf.CopyWithPrivateKey(key);

        string first = ClientAssertion.Create("c", "aud", signing, DateTimeOffset.UtcNow);
        string second = ClientAssertion.Create("c", "aud", signing, DateTimeOffset.UtcNow);

        Assert.NotEqual(first.Split('.')[1], second.Split('.')[1]);
    }

    [Fact]
    public void RefusesACertificateWithoutItsKey()
    {
        using var key = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "jwt.example.com");

        var failure = Assert.Throws<StitchMtlsException>(() =>
            ClientAssertion.Create("c", "aud", leaf, DateTimeOffset.UtcNow));
        Assert.Equal("ClientAssertionKeyMissing", failure.ErrorId);
    }

    [Fact]
    public void RefusesAnEcKeyForRs256()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=ec", key, HashAlgorithmName.SHA256);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1),
            DateTimeOffset.UtcNow.AddDays(1));

        var failure = Assert.Throws<StitchMtlsException>(() =>
            ClientAssertion.Create("c", "aud", certificate, DateTimeOffset.UtcNow));
        Assert.Equal("ClientAssertionKeyUnsupported", failure.ErrorId);
    }

    private static byte[] Decode(string part)
    {
        string padded = part.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4));
    }
}
