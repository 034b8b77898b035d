using System;
using System.IO;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using StitchMtls.TestGateway.Pki;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// TLS by Kestrel's HTTPS middleware (SslStream), with HTTP/1.1 and HTTP/2.
/// </summary>
/// <remarks>
/// Measured on Linux with .NET 10.0.12: SslStream checks the client certificate only after OpenSSL has finished
/// the handshake, then closes the TCP connection without any alert. Under TLS 1.2 the client has already
/// received the server's Finished; openssl s_client reports "unexpected eof while reading", curl exit code 55,
/// 56 or 18 depending on timing. That is why <see cref="OpenSsl.OpenSslTermination"/> is the default on Linux.
/// </remarks>
internal sealed class SslStreamTermination : ITlsTermination
{
    private static readonly TimeSpan s_handshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly GatewayOptions _options;
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _intermediate;
    private readonly X509Certificate2 _server;
    private readonly ClientCertificatePolicy _clientPolicy;

    public SslStreamTermination(GatewayOptions options, TextWriter diagnostics)
    {
        _options = options;
        _root = PemFile.ReadCertificate(options.Pki.RootCertificatePath);
        _intermediate = PemFile.ReadCertificate(options.Pki.IntermediateCertificatePath);
        _server = PemFile.ReadCertificateWithKey(options.Pki.ServerCertificatePath, options.Pki.ServerKeyPath);
        _clientPolicy = new ClientCertificatePolicy(_root, diagnostics);
    }

    public void Apply(ListenOptions listen)
    {
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        listen.UseHttps(https =>
        {
            https.ServerCertificate = _server;
            https.ServerCertificateChain = new X509Certificate2Collection(_intermediate);
            https.SslProtocols = _options.Protocols;
            https.HandshakeTimeout = s_handshakeTimeout;
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.CheckCertificateRevocation = false;
            https.ClientCertificateValidation = _clientPolicy.Validate;

            // Kestrel has no property for the chain policy; SslStream reads it from the per-connection options.
            https.OnAuthenticate = (_, ssl) => ssl.CertificateChainPolicy = _clientPolicy.CreateChainPolicy();
        });
    }

    public void Dispose()
    {
        _server.Dispose();
        _intermediate.Dispose();
        _root.Dispose();
    }
}
