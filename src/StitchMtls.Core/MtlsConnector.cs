using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls;

/// <summary>The server's certificate was refused by our own check; the message says why.</summary>
public sealed class ServerCertificateException : AuthenticationException
{
    public ServerCertificateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// What a connection reports as it goes: the stages of <see cref="ConnectionTest"/>, or the verbose narration of
/// a pooled API connection. Called on the connecting thread.
/// </summary>
internal interface IConnectionNarration
{
    void Begin(ConnectionStage stage, string narration);

    void Complete(string detail);

    void Warning(string message);

    /// <summary>The TCP connection is up; <paramref name="remoteAddress"/> is the peer (the proxy, with one).</summary>
    void Connected(string? remoteAddress)
    {
    }
}

/// <summary>
/// Opens one mutual-TLS connection: DNS, TCP, an optional CONNECT tunnel through a proxy, then the TLS handshake
/// presenting the client chain. Shared by <see cref="ConnectionTest"/> and <see cref="MtlsConnectionPool"/>, so
/// both present the certificate and check the server the same way.
/// </summary>
internal sealed class MtlsConnector
{
    private readonly ClientCertificate _certificate;
    private readonly X509Certificate2Collection? _serverAuthorities;
    private readonly NetworkCredential? _proxyCredential;
    private SslStreamCertificateContext? _context;

    /// <param name="certificate">The client certificate; the caller keeps it alive while connections are made.</param>
    /// <param name="serverAuthorities">The CAs the server must chain to; the system trust store when null.</param>
    /// <param name="proxy">The proxy already chosen (<see cref="ProxyTunnel.Choose"/>), or null.</param>
    /// <param name="proxyCredential">Basic credentials for the proxy, or null.</param>
    public MtlsConnector(ClientCertificate certificate, X509Certificate2Collection? serverAuthorities, Uri? proxy,
        NetworkCredential? proxyCredential)
    {
        _certificate = certificate;
        _serverAuthorities = serverAuthorities;
        Proxy = proxy;
        _proxyCredential = proxyCredential;
    }

    public Uri? Proxy { get; }

    /// <summary>Opens a connection to <paramref name="host"/>:<paramref name="port"/> and completes the handshake.
    /// </summary>
    /// <exception cref="ServerCertificateException">Our check refused the server's certificate.</exception>
    public async Task<SslStream> ConnectAsync(string host, int port, IConnectionNarration narration,
        CancellationToken token)
    {
        string connectHost = Proxy?.Host ?? host;
        int connectPort = Proxy?.Port ?? port;
        narration.Begin(ConnectionStage.Resolve, $"Resolving {connectHost}.");
        IPAddress[] addresses = await ResolveAsync(connectHost, narration, token).ConfigureAwait(false);

        narration.Begin(ConnectionStage.Connect, $"Connecting to {connectHost}:{connectPort}" +
            (Proxy is null ? "." : " (the proxy)."));
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, connectPort, token).ConfigureAwait(false);
            string? remote = DescribeEndPoint(socket.RemoteEndPoint as IPEndPoint);
            narration.Connected(remote);
            narration.Complete($"Connected to {remote}.");
            Stream transport = new NetworkStream(socket, ownsSocket: true);

            if (Proxy is not null)
            {
                narration.Begin(ConnectionStage.Proxy, $"Asking the proxy {Proxy} for a tunnel to {host}:{port}.");
                await ProxyTunnel.OpenAsync(transport, Proxy, host, port, _proxyCredential, token)
                    .ConfigureAwait(false);
                narration.Complete($"The proxy opened a tunnel to {host}:{port}.");
            }

            narration.Begin(ConnectionStage.Tls, $"TLS handshake with {host}, presenting " +
                $"'{_certificate.Leaf.Subject}' and {_certificate.Intermediates.Count} intermediate(s).");
            var check = new ServerCertificateCheck(host, _serverAuthorities);
            var tls = new SslStream(transport, leaveInnerStreamOpen: false);
            try
            {
                await tls.AuthenticateAsClientAsync(CreateTlsOptions(host, check), token).ConfigureAwait(false);
            }
            catch (AuthenticationException ex) when (check.Problem is not null)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
                throw new ServerCertificateException(check.Problem, ex);
            }
            catch
            {
                await tls.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            narration.Complete($"Negotiated {DescribeProtocol(tls.SslProtocol)}; the server certificate " +
                $"'{tls.RemoteCertificate?.Subject}' is trusted.");
            return tls;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static string DescribeProtocol(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLS 1.3",
        SslProtocols.Tls12 => "TLS 1.2",
        _ => protocol.ToString(),
    };

    private static async Task<IPAddress[]> ResolveAsync(string host, IConnectionNarration narration,
        CancellationToken token)
    {
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            narration.Complete($"{host} is an address; nothing to resolve.");
            return new[] { literal };
        }

        IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, token).ConfigureAwait(false);
        string list = string.Join(", ", addresses.Select(address => address.ToString()));
        string? documented = StitchEndpoint.Documented
            .FirstOrDefault(endpoint => endpoint.MtlsUri.Host == host)?.IPAddress;
        if (documented is not null && !addresses.Any(address => address.ToString() == documented))
        {
            narration.Warning($"{host} resolves to {list}, not to Stitch's documented {documented}: split DNS or " +
                "an intercepting proxy may be redirecting the traffic.");
        }

        narration.Complete($"{host} resolves to {list}.");
        return addresses;
    }

    private SslClientAuthenticationOptions CreateTlsOptions(string host, ServerCertificateCheck check)
    {
        return new SslClientAuthenticationOptions
        {
            TargetHost = host,
            // Without a key nothing can be presented; -SkipPreFlight sends no certificate to show the gateway's answer.
            ClientCertificateContext = _certificate.Leaf.HasPrivateKey
                ? _context ??= _certificate.CreateContext()
                : null,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ApplicationProtocols = new List<SslApplicationProtocol> { SslApplicationProtocol.Http11 },
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = check.Validate,
        };
    }

    private static string? DescribeEndPoint(IPEndPoint? endPoint)
    {
        if (endPoint is null)
        {
            return null;
        }

        // A dual-mode socket reports IPv4 peers as ::ffff:a.b.c.d; people know them as a.b.c.d.
        IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        return new IPEndPoint(address, endPoint.Port).ToString();
    }

    /// <summary>The server certificate check of one handshake, and why it failed.</summary>
    private sealed class ServerCertificateCheck
    {
        private readonly string _host;
        private readonly X509Certificate2Collection? _authorities;

        public ServerCertificateCheck(string host, X509Certificate2Collection? authorities)
        {
            _host = host;
            _authorities = authorities;
        }

        public string? Problem { get; private set; }

        public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (certificate is null)
            {
                Problem = "the server sent no certificate";
                return false;
            }

            var problems = new List<string>();
            if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            {
                problems.Add($"it is not valid for the host name '{_host}'");
            }

            if (_authorities is { Count: > 0 })
            {
                using var custom = new X509Chain();
                custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                custom.ChainPolicy.CustomTrustStore.AddRange(_authorities);
                custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                custom.ChainPolicy.DisableCertificateDownloads = true;
                if (chain is not null)
                {
                    foreach (X509ChainElement element in chain.ChainElements)
                    {
                        custom.ChainPolicy.ExtraStore.Add(element.Certificate);
                    }
                }

                if (!custom.Build(new X509Certificate2(certificate)))
                {
                    problems.Add("it does not chain to -ServerCertificateAuthority (" + DescribeChain(custom) + ")");
                }
            }
            else if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
            {
                problems.Add("it does not chain to a root this machine trusts (" + DescribeChain(chain) + ")");
            }

            if (problems.Count == 0)
            {
                return true;
            }

            Problem = $"The server certificate '{certificate.Subject}' is not trusted: " +
                string.Join("; ", problems) + ".";
            return false;
        }

        private static string DescribeChain(X509Chain? chain)
        {
            if (chain is null || chain.ChainStatus.Length == 0)
            {
                return "no chain could be built";
            }

            return string.Join("; ",
                chain.ChainStatus.Select(status => status.StatusInformation.Trim()).Distinct());
        }
    }
}
