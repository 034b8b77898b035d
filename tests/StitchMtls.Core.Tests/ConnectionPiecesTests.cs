using System;
using System.Security.Cryptography;
using StitchMtls.Platform;
using Xunit;

namespace StitchMtls.Tests;

public class ConnectionPiecesTests
{
    [Theory]
    [InlineData(0x0A000418, 48)]
    [InlineData(0x0A000412, 42)]
    [InlineData(0x0A000415, 45)]
    [InlineData(0x0A00045C, 116)]
    public void ReadsTheTlsAlertOpenSslPacksIntoTheHResult(int hresult, int alert)
    {
        var inner = new CryptographicException("alert") { HResult = hresult };
        var outer = new System.IO.IOException("wrapped", new System.Security.Authentication.AuthenticationException(
            "auth", inner));

        Assert.Equal(alert, TlsPlatform.ReceivedAlert(outer));
    }

    [Fact]
    public void FindsNoAlertInAnOrdinaryFailure()
    {
        Assert.Null(TlsPlatform.ReceivedAlert(new System.IO.IOException("reset")));
    }

    [Theory]
    [InlineData("Secure", "https://secure.mtls.stitch.money/", "https://secure.mtls.stitch.money/connect/token")]
    [InlineData("api", "https://api.mtls.stitch.money/", null)]
    [InlineData("https://127.0.0.1:8443", "https://127.0.0.1:8443/", "https://127.0.0.1:8443/connect/token")]
    public void ResolvesEndpointsAndTheirTokenUri(string value, string mtls, string? token)
    {
        StitchEndpoint endpoint = StitchEndpoint.Resolve(value);

        Assert.Equal(mtls, endpoint.MtlsUri.ToString());
        Assert.Equal(token, endpoint.TokenUri?.ToString());
    }

    [Theory]
    [InlineData("http://127.0.0.1:8443")]
    [InlineData("Production")]
    public void RejectsEndpointsThatAreNotHttpsOrNamed(string value)
    {
        Assert.Equal("EndpointInvalid",
            Assert.Throws<StitchMtlsException>(() => StitchEndpoint.Resolve(value)).ErrorId);
    }

    [Fact]
    public void NeverPrintsTheClientSecret()
    {
        Assert.DoesNotContain("s3cret", new ClientCredential("client", "s3cret").ToString());
    }

    [Fact]
    public void ATimeoutToStitchNamesTheDocumentedAddressToAllow()
    {
        string text = ConnectionDiagnosis.ConnectTimeout("secure.mtls.stitch.money:443",
            StitchEndpoint.Resolve("Secure").IPAddress!, 443, 30);

        Assert.Contains("egress firewall", text);
        Assert.Contains("20.87.105.80", text);
    }

    [Theory]
    [InlineData("invalid_client: bad secret s3cr+t/é")]
    [InlineData("client_secret=s3cr%2Bt%2F%C3%A9&grant_type=client_credentials")]
    [InlineData("client_secret=s3cr%2bt%2f%c3%a9")]
    public void MasksTheSecretWhereverTheServerEchoesIt(string echoed)
    {
        string masked = ConnectionDiagnosis.Redact(echoed, "s3cr+t/é", null);

        Assert.DoesNotContain("s3cr", masked);
        Assert.Contains("********", masked);
    }
}
