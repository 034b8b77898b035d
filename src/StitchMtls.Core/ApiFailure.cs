using System;
using System.IO;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;
using StitchMtls.Platform;

namespace StitchMtls;

/// <summary>
/// Turns what a failed token or API request threw into a <see cref="StitchMtlsException"/> with the same ids
/// <c>Test-StitchMtls</c> uses for the same cause, so a script can match one set of names.
/// </summary>
internal static class ApiFailure
{
    /// <summary>Whether <paramref name="exception"/> is one the network or TLS stack raises for a request.</summary>
    public static bool IsNetworkFailure(Exception exception) => exception is HttpRequestException or IOException
        or AuthenticationException or SocketException or ProxyTunnelException;

    public static StitchMtlsException FromException(Exception exception, Uri target, ClientCertificate certificate,
        Uri? proxy)
    {
        string where = target.GetLeftPart(UriPartial.Path);
        if (ExceptionChain.Find<ServerCertificateException>(exception) is { } untrusted)
        {
            return proxy is null
                ? new StitchMtlsException("ServerCertificateUntrusted", FailureCategory.SecurityError,
                    untrusted.Message + " Check -Endpoint, or give the CA that issued the server certificate with " +
                    "-ServerCertificateAuthority.", where, exception)
                : new StitchMtlsException("ProxyInterceptsTls", FailureCategory.SecurityError, untrusted.Message +
                    $" The connection went through the proxy {proxy}, which appears to intercept TLS; ask for " +
                    $"{target.Host} to be exempted from TLS inspection.", where, exception);
        }

        if (ExceptionChain.Find<ProxyTunnelException>(exception) is { } tunnel)
        {
            return new StitchMtlsException(tunnel.DiagnosisId, FailureCategory.ConnectionError, tunnel.Message, where,
                exception);
        }

        if (TlsPlatform.ReceivedAlert(exception) is { } alert)
        {
            (string id, string text) = ConnectionDiagnosis.ForAlert(alert, certificate);
            return new StitchMtlsException(id, FailureCategory.SecurityError, text + " Test-StitchMtls shows each " +
                "stage of the connection.", where, exception);
        }

        if (ExceptionChain.Find<SocketException>(exception) is { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return new StitchMtlsException("ConnectionRefused", FailureCategory.ConnectionError,
                $"The connection to {(proxy is null ? target.Authority : proxy.Authority + " (the proxy)")} was " +
                "refused: nothing listens there, or a firewall rejects it. Check -Endpoint and -Proxy.", where,
                exception);
        }

        return new StitchMtlsException("ConnectionFailed", FailureCategory.ConnectionError,
            $"The request to {where} failed: {ExceptionChain.Innermost(exception).Message} Run Test-StitchMtls " +
            "with the same certificate for a diagnosis.", where, exception);
    }

    public static StitchMtlsException TimedOut(Uri target, TimeSpan timeout) =>
        new("RequestTimeout", FailureCategory.OperationTimeout, $"No complete answer from {target.Authority} within " +
            $"{timeout.TotalSeconds:0} s (-TimeoutSec), retries included. Retry with a longer -TimeoutSec; if it " +
            "persists, run Test-StitchMtls.", target.GetLeftPart(UriPartial.Path));
}
