using System;
using System.IO;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
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
    private readonly X509Certificate2Collection _serverChain;
    private readonly X509Certificate2 _server;
    private readonly ClientCertificatePolicy _clientPolicy;
    private readonly ConnectionLog _connections;

    public SslStreamTermination(GatewayOptions options, ConnectionLog connections, TextWriter diagnostics)
    {
        ServerCertificateFiles server = options.ServerCertificate;
        _options = options;
        _root = PemFile.ReadCertificate(options.Pki.RootCertificatePath);
        _server = PemFile.ReadCertificateWithKey(server.CertificatePath, server.KeyPath);
        _serverChain = ReadIntermediates(server.ChainPath);
        _clientPolicy = new ClientCertificatePolicy(_root, diagnostics);
        _connections = connections;
    }

    public void Apply(ListenOptions listen)
    {
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        listen.UseHttps(https =>
        {
            https.ServerCertificate = _server;
            https.ServerCertificateChain = _serverChain;
            https.SslProtocols = _options.Protocols;
            https.HandshakeTimeout = s_handshakeTimeout;
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.CheckCertificateRevocation = false;
            https.ClientCertificateValidation = _clientPolicy.Validate;

            // Kestrel has no property for the chain policy; SslStream reads it from the per-connection options.
            https.OnAuthenticate = (_, ssl) => ssl.CertificateChainPolicy = _clientPolicy.CreateChainPolicy();
        });
        listen.Use(next => connection =>
        {
            LogHandshake(connection);
            return next(connection);
        });
    }

    public void Dispose()
    {
        _server.Dispose();
        foreach (X509Certificate2 certificate in _serverChain)
        {
            certificate.Dispose();
        }

        _root.Dispose();
    }

    /// <summary>The certificates of a chain file after its first, the server's own.</summary>
    private static X509Certificate2Collection ReadIntermediates(string chainPath)
    {
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(chainPath);
        X509Certificate2 leaf = chain[0];
        chain.RemoveAt(0);
        leaf.Dispose();
        return chain;
    }

    private void LogHandshake(ConnectionContext connection)
    {
        SslProtocols protocol = connection.Features.Get<ITlsHandshakeFeature>()?.Protocol ?? SslProtocols.None;
        X509Certificate2? client = connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;
        string version = protocol switch
        {
            SslProtocols.Tls12 => "TLSv1.2",
            SslProtocols.Tls13 => "TLSv1.3",
            _ => protocol.ToString(),
        };
        _connections.HandshakeCompleted(ConnectionNumber.Of(connection), ClientIdentity.CommonNameOf(client), version);
    }
}
