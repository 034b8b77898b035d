using System;

namespace StitchMtls.TestGateway.Serve.OpenSsl;

/// <summary>The TLS handshake failed; OpenSSL has already sent the client its alert, if it had one.</summary>
internal sealed class TlsHandshakeRejectedException : Exception
{
    public TlsHandshakeRejectedException(string reason, string? clientCommonName)
        : base(reason)
    {
        ClientCommonName = clientCommonName;
    }

    /// <summary>The CN of the certificate the client sent, when OpenSSL kept it.</summary>
    public string? ClientCommonName { get; }
}
