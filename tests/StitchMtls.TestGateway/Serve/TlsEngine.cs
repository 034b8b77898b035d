namespace StitchMtls.TestGateway.Serve;

/// <summary>Which TLS implementation terminates client connections.</summary>
internal enum TlsEngine
{
    /// <summary>OpenSSL where libssl.so.3 is present, otherwise SslStream.</summary>
    Auto,

    /// <summary>OpenSSL through P/Invoke: client certificates checked in the handshake, with real alerts.</summary>
    OpenSsl,

    /// <summary>Kestrel's own HTTPS (SslStream); on Linux a rejected certificate gets no TLS alert.</summary>
    SslStream,
}
