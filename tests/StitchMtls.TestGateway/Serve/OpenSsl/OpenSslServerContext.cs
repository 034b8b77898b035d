using System;
using System.IO.Pipelines;
using System.Security.Authentication;
using System.Security.Cryptography;
using StitchMtls.TestGateway.Pki;

namespace StitchMtls.TestGateway.Serve.OpenSsl;

/// <summary>
/// The gateway's TLS settings as one OpenSSL <c>SSL_CTX</c>, from which each connection gets its own session.
/// </summary>
/// <remarks>
/// OpenSSL verifies the client's chain inside the handshake: the store holds root.pem only, the intermediates
/// are the ones the client sent, the default purpose of a server's peer is sslclient (so an extended key usage
/// without clientAuth fails), and there is no revocation check. A failure makes OpenSSL itself send the alert
/// that fits the X.509 error: unknown_ca for a chain that does not reach the root, certificate_expired for an
/// expired leaf. SslStream on Linux validates only after the handshake and sends no alert at all, which a real
/// gateway never does.
/// </remarks>
internal sealed class OpenSslServerContext : IDisposable
{
    private readonly SafeSslContextHandle _context;

    private OpenSslServerContext(SafeSslContextHandle context)
    {
        _context = context;
    }

    /// <exception cref="CryptographicException">OpenSSL refused a file or a setting.</exception>
    public static OpenSslServerContext Create(GatewayOptions options)
    {
        LibSsl.ERR_clear_error();
        SafeSslContextHandle context = LibSsl.SSL_CTX_new(LibSsl.TLS_server_method());
        if (context.IsInvalid)
        {
            throw Failure("create a TLS server context");
        }

        try
        {
            Configure(context, options.ServerCertificate, options.Pki, options.Protocols);
            return new OpenSslServerContext(context);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>A TLS session for one connection, carried over <paramref name="transport"/>.</summary>
    public OpenSslServerStream CreateSession(IDuplexPipe transport) => OpenSslServerStream.Create(_context, transport);

    public void Dispose() => _context.Dispose();

    private static void Configure(
        SafeSslContextHandle context,
        ServerCertificateFiles server,
        PkiDirectory pki,
        SslProtocols protocols)
    {
        // The server chain: leaf then any intermediate, as the chain file lists them.
        Check(LibSsl.SSL_CTX_use_certificate_chain_file(context, server.ChainPath), $"use {server.ChainPath}");
        Check(
            LibSsl.SSL_CTX_use_PrivateKey_file(context, server.KeyPath, LibSsl.SslFileTypePem),
            $"use {server.KeyPath}");
        Check(LibSsl.SSL_CTX_check_private_key(context), $"match {server.KeyPath} to {server.CertificatePath}");

        // Client certificates: required, and verified against root.pem alone.
        Check(LibSsl.SSL_CTX_load_verify_locations(context, pki.RootCertificatePath, null), "load root.pem");
        LibSsl.SSL_CTX_set_verify(
            context,
            LibSsl.SslVerifyPeer | LibSsl.SslVerifyFailIfNoPeerCertificate,
            OpenSslServerStream.VerifyCallback);

        (int minimum, int maximum) = VersionRange(protocols);
        Check((int)LibSsl.SSL_CTX_ctrl(context, LibSsl.SslCtrlSetMinProtoVersion, minimum, IntPtr.Zero), "min version");
        Check((int)LibSsl.SSL_CTX_ctrl(context, LibSsl.SslCtrlSetMaxProtoVersion, maximum, IntPtr.Zero), "max version");

        // Every connection is a full handshake, so every connection has its certificate checked.
        LibSsl.SSL_CTX_set_options(context, LibSsl.SslOptionNoTicket | LibSsl.SslOptionNoRenegotiation);
        LibSsl.SSL_CTX_ctrl(context, LibSsl.SslCtrlSetSessionCacheMode, LibSsl.SslSessionCacheOff, IntPtr.Zero);
        Check(LibSsl.SSL_CTX_set_num_tickets(context, 0), "disable session tickets");
        ReadOnlySpan<byte> sessionIdContext = "StitchMtls.TestGateway"u8;
        Check(
            LibSsl.SSL_CTX_set_session_id_context(context, sessionIdContext, (uint)sessionIdContext.Length),
            "set session id context");
    }

    private static (int Minimum, int Maximum) VersionRange(SslProtocols protocols) => protocols switch
    {
        SslProtocols.Tls12 => (LibSsl.Tls12Version, LibSsl.Tls12Version),
        SslProtocols.Tls13 => (LibSsl.Tls13Version, LibSsl.Tls13Version),
        _ => (LibSsl.Tls12Version, LibSsl.Tls13Version),
    };

    private static void Check(int result, string step)
    {
        if (result != 1)
        {
            throw Failure(step);
        }
    }

    private static CryptographicException Failure(string step) =>
        new($"OpenSSL could not {step}: {LibSsl.TakeErrors()}");
}
