using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls;

/// <summary>Why a proxy would not open a tunnel.</summary>
public sealed class ProxyTunnelException : Exception
{
    public ProxyTunnelException(string diagnosisId, string message, int? status = null)
        : base(message)
    {
        DiagnosisId = diagnosisId;
        Status = status;
    }

    public string DiagnosisId { get; }

    public int? Status { get; }
}

/// <summary>
/// Opens an HTTP CONNECT tunnel (RFC 9110 section 9.3.6) through a proxy, so that the TLS handshake, and with
/// it the client certificate, still runs end to end between this machine and the gateway.
/// </summary>
internal static class ProxyTunnel
{
    private const int MaxResponseHeaderBytes = 16 * 1024;

    /// <summary>
    /// Which proxy HttpClient would use for <paramref name="target"/>, or null for a direct connection.
    /// </summary>
    public static Uri? Choose(Uri target, Uri? explicitProxy, bool noProxy)
    {
        if (noProxy)
        {
            return null;
        }

        Uri? proxy = explicitProxy;
        if (proxy is null)
        {
            IWebProxy system = HttpClient.DefaultProxy;
            proxy = system.IsBypassed(target) ? null : system.GetProxy(target);
        }

        if (proxy is not null && proxy.Scheme != Uri.UriSchemeHttp)
        {
            throw new StitchMtlsException("ProxySchemeUnsupported", FailureCategory.InvalidArgument,
                $"The proxy '{proxy}' is not an http:// proxy. StitchMtls tunnels through HTTP proxies with CONNECT; " +
                "give the proxy as http://host:port.", proxy.ToString());
        }

        return proxy;
    }

    public static async Task OpenAsync(Stream proxyConnection, Uri proxy, string host, int port,
        NetworkCredential? credential, CancellationToken token)
    {
        var request = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"CONNECT {host}:{port} HTTP/1.1\r\n")
            .Append(CultureInfo.InvariantCulture, $"Host: {host}:{port}\r\n");
        if (credential is not null)
        {
            string basic = Convert.ToBase64String(
                Encoding.UTF8.GetBytes($"{credential.UserName}:{credential.Password}"));
            request.Append("Proxy-Authorization: Basic ").Append(basic).Append("\r\n");
        }

        request.Append("\r\n");
        await proxyConnection.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()), token).ConfigureAwait(false);

        string statusLine = await ReadResponseHeadAsync(proxyConnection, proxy, token).ConfigureAwait(false);
        string[] parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture,
            out int status))
        {
            throw new ProxyTunnelException("ProxyFailed",
                $"The proxy {proxy} answered CONNECT with something that is " +
                "not HTTP. Check -Proxy: it must be an HTTP proxy that supports CONNECT.");
        }

        if (status == 407)
        {
            throw new ProxyTunnelException("ProxyAuthenticationRequired", $"The proxy {proxy} requires " +
                (credential is null ? "authentication: give -ProxyCredential." : "authentication, and refused the " +
                "-ProxyCredential given: check the user name and password."), status);
        }

        if (status is < 200 or > 299)
        {
            throw new ProxyTunnelException("ProxyRefused", $"The proxy {proxy} refused to open a tunnel to " +
                $"{host}:{port} (HTTP {status}{(parts.Length > 2 ? " " + parts[2] : string.Empty)}). Ask for " +
                $"{host}:{port} to be allowed through the proxy, or use -NoProxy if the host is reachable directly.",
                status);
        }
    }

    private static async Task<string> ReadResponseHeadAsync(Stream stream, Uri proxy, CancellationToken token)
    {
        // Read byte by byte: anything after the blank line belongs to the TLS handshake that follows.
        var head = new StringBuilder();
        var one = new byte[1];
        while (head.Length < MaxResponseHeaderBytes)
        {
            int read = await stream.ReadAsync(one, token).ConfigureAwait(false);
            if (read == 0)
            {
                throw new ProxyTunnelException("ProxyFailed", $"The proxy {proxy} closed the connection without " +
                    "answering CONNECT.");
            }

            head.Append((char)one[0]);
            if (head.Length >= 4 && head.ToString(head.Length - 4, 4) == "\r\n\r\n")
            {
                return head.ToString().Split("\r\n", 2)[0];
            }
        }

        throw new ProxyTunnelException("ProxyFailed", $"The proxy {proxy} sent an oversized answer to CONNECT.");
    }
}
