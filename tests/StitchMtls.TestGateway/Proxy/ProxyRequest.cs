using System;
using System.Text;

namespace StitchMtls.TestGateway.Proxy;

/// <summary>
/// The head of one request to the proxy: the request line and the one header the proxy reads,
/// Proxy-Authorization (RFC 9110, sections 9.3.6 and 11.7.2).
/// </summary>
internal sealed class ProxyRequest
{
    private ProxyRequest(string method, string target, string? proxyAuthorization)
    {
        Method = method;
        Target = target;
        ProxyAuthorization = proxyAuthorization;
    }

    public string Method { get; }

    /// <summary>The request target; for CONNECT, authority form <c>host:port</c>.</summary>
    public string Target { get; }

    public string? ProxyAuthorization { get; }

    /// <summary>Parses a request head without its final empty line; null when the request line is malformed.</summary>
    public static ProxyRequest? Parse(ReadOnlySpan<byte> head)
    {
        string[] lines = Encoding.Latin1.GetString(head).Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3
            || requestLine[0].Length == 0
            || requestLine[1].Length == 0
            || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return null;
        }

        string? proxyAuthorization = null;
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line.AsSpan(0, colon).Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase))
            {
                proxyAuthorization = line.Substring(colon + 1).Trim();
            }
        }

        return new ProxyRequest(requestLine[0], requestLine[1], proxyAuthorization);
    }

    /// <summary>True for a target <c>127.0.0.1:port</c> or <c>localhost:port</c>, the only places to go.</summary>
    public bool TryGetLoopbackPort(out int port)
    {
        port = 0;
        int colon = Target.LastIndexOf(':');
        if (colon <= 0)
        {
            return false;
        }

        string host = Target.Substring(0, colon);
        bool loopback = host == "127.0.0.1" || host.Equals("localhost", StringComparison.OrdinalIgnoreCase);
        return loopback
            && int.TryParse(Target.AsSpan(colon + 1), System.Globalization.NumberStyles.None, null, out port)
            && port is > 0 and <= 65535;
    }
}
