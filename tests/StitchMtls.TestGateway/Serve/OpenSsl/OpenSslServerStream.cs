using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls.TestGateway.Serve.OpenSsl;

/// <summary>
/// One TLS server session: OpenSSL works on two memory BIOs, and this stream moves ciphertext between
/// them and the connection's transport. Reads and writes may run at the same time (one of each); every call
/// into OpenSSL holds <see cref="_sslLock"/>, and every write to the transport holds <see cref="_transportLock"/>.
/// </summary>
internal sealed class OpenSslServerStream : Stream
{
    /// <summary>The leaf OpenSSL just refused, captured by <see cref="OnVerify"/> on the handshaking thread.</summary>
    [ThreadStatic]
    private static byte[]? t_refusedCertificate;

    private readonly SafeSslHandle _ssl;
    private readonly IntPtr _networkInput;
    private readonly IntPtr _networkOutput;
    private readonly IDuplexPipe _transport;
    private readonly object _sslLock = new();
    private readonly SemaphoreSlim _transportLock = new(1, 1);
    private bool _disposed;

    private OpenSslServerStream(SafeSslHandle ssl, IntPtr networkInput, IntPtr networkOutput, IDuplexPipe transport)
    {
        _ssl = ssl;
        _networkInput = networkInput;
        _networkOutput = networkOutput;
        _transport = transport;
    }

    /// <summary>The client's leaf certificate, once <see cref="HandshakeAsync"/> has succeeded.</summary>
    public X509Certificate2? ClientCertificate { get; private set; }

    /// <summary>The negotiated version in OpenSSL's spelling (<c>TLSv1.3</c>), once the handshake succeeded.</summary>
    public string Protocol { get; private set; } = "-";

    /// <summary>
    /// The verify callback for <c>SSL_CTX_set_verify</c>: keeps OpenSSL's verdict and remembers the certificate
    /// it refused, which OpenSSL discards before the handshake returns.
    /// </summary>
    public static unsafe IntPtr VerifyCallback => (IntPtr)(delegate* unmanaged<int, IntPtr, int>)&OnVerify;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public static OpenSslServerStream Create(SafeSslContextHandle context, IDuplexPipe transport)
    {
        SafeSslHandle ssl = LibSsl.SSL_new(context);
        if (ssl.IsInvalid)
        {
            throw new IOException($"SSL_new failed: {LibSsl.TakeErrors()}");
        }

        // SSL_set_bio hands both BIOs to the session: SSL_free releases them.
        IntPtr networkInput = LibSsl.BIO_new(LibSsl.BIO_s_mem());
        IntPtr networkOutput = LibSsl.BIO_new(LibSsl.BIO_s_mem());
        LibSsl.SSL_set_bio(ssl, networkInput, networkOutput);
        LibSsl.SSL_set_accept_state(ssl);
        return new OpenSslServerStream(ssl, networkInput, networkOutput, transport);
    }

    /// <summary>Runs the server side of the handshake, sending whatever OpenSSL produces, alerts included.</summary>
    /// <exception cref="TlsHandshakeRejectedException">The client's certificate, or anything else, failed.</exception>
    public async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            (int result, int error, string failure, byte[]? refusedCertificate) = StepHandshake();
            await SendNetworkOutputAsync(cancellationToken);

            if (result == 1)
            {
                ClientCertificate = ReadPeerCertificate();
                Protocol = ReadProtocol();
                return;
            }

            if (error != LibSsl.SslErrorWantRead)
            {
                using X509Certificate2? refused = refusedCertificate is null
                    ? null
                    : X509CertificateLoader.LoadCertificate(refusedCertificate);
                throw new TlsHandshakeRejectedException(failure, ClientIdentity.CommonNameOf(refused));
            }

            if (!await ReceiveNetworkInputAsync(cancellationToken))
            {
                throw new TlsHandshakeRejectedException("the client closed the connection during the handshake", null);
            }
        }
    }

    /// <summary>Sends close_notify, so the client sees an orderly end rather than a truncation.</summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        lock (_sslLock)
        {
            LibSsl.ERR_clear_error();
            LibSsl.SSL_shutdown(_ssl);
            LibSsl.ERR_clear_error();
        }

        await SendNetworkOutputAsync(cancellationToken);
    }

    /// <summary>
    /// Reads what the client sends after a failed handshake, for at most <paramref name="timeout"/>, so that
    /// closing the socket does not turn into a reset that could destroy the alert before the client reads it.
    /// </summary>
    public async Task DrainAfterRejectionAsync(TimeSpan timeout)
    {
        using var drainTime = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                ReadResult result = await _transport.Input.ReadAsync(drainTime.Token);
                _transport.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client has had its time; the socket closes now either way.
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            (int count, int error) = ReadPlaintext(buffer.Span);
            await SendNetworkOutputAsync(cancellationToken);

            if (count > 0)
            {
                return count;
            }

            switch (error)
            {
                case LibSsl.SslErrorZeroReturn:
                    return 0;
                case LibSsl.SslErrorWantRead:
                    if (!await ReceiveNetworkInputAsync(cancellationToken))
                    {
                        return 0;
                    }

                    break;
                default:
                    throw new IOException($"TLS read failed (SSL error {error}): {LibSsl.TakeErrors()}");
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(
        ReadOnlyMemory<byte> buffer,
        CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return;
        }

        WritePlaintext(buffer.Span);
        await SendNetworkOutputAsync(cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
        // Every write is sent before WriteAsync returns: there is nothing to flush.
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_sslLock)
            {
                // The BIOs go with the session: from here on nothing may touch either.
                _disposed = true;
                _ssl.Dispose();
            }

            ClientCertificate?.Dispose();
        }

        base.Dispose(disposing);
    }

    [UnmanagedCallersOnly]
    private static int OnVerify(int preverified, IntPtr storeContext)
    {
        if (preverified == 0)
        {
            try
            {
                t_refusedCertificate = LibSsl.EncodeCertificate(LibSsl.X509_STORE_CTX_get0_cert(storeContext));
            }
            catch (Exception)
            {
                // The certificate is only for the log; OpenSSL's verdict stands either way.
                t_refusedCertificate = null;
            }
        }

        return preverified;
    }

    private (int Result, int Error, string Failure, byte[]? RefusedCertificate) StepHandshake()
    {
        lock (_sslLock)
        {
            t_refusedCertificate = null;
            LibSsl.ERR_clear_error();
            int result = LibSsl.SSL_do_handshake(_ssl);
            byte[]? refusedCertificate = t_refusedCertificate;
            t_refusedCertificate = null;
            if (result == 1)
            {
                return (result, LibSsl.SslErrorNone, string.Empty, null);
            }

            int error = LibSsl.SSL_get_error(_ssl, result);
            string failure = error == LibSsl.SslErrorWantRead ? string.Empty : DescribeFailure(error);
            return (result, error, failure, refusedCertificate);
        }
    }

    /// <summary>Why the handshake failed: the X.509 verification error if any, then OpenSSL's errors.</summary>
    private string DescribeFailure(int error)
    {
        string queued = LibSsl.TakeErrors();
        string failure = $"SSL error {error}: {(queued.Length > 0 ? queued : "no OpenSSL error queued")}";

        nint verifyResult = LibSsl.SSL_get_verify_result(_ssl);
        if (verifyResult == 0)
        {
            return failure;
        }

        string? verifyText = Marshal.PtrToStringUTF8(LibSsl.X509_verify_cert_error_string(verifyResult));
        return $"X509 verify error {verifyResult} ({verifyText}); {failure}";
    }

    private (int Count, int Error) ReadPlaintext(Span<byte> buffer)
    {
        lock (_sslLock)
        {
            LibSsl.ERR_clear_error();
            int count = LibSsl.SSL_read(_ssl, buffer, buffer.Length);
            return count > 0 ? (count, LibSsl.SslErrorNone) : (0, LibSsl.SSL_get_error(_ssl, count));
        }
    }

    private void WritePlaintext(ReadOnlySpan<byte> buffer)
    {
        lock (_sslLock)
        {
            // A memory BIO never fills up, so SSL_write takes everything or fails.
            LibSsl.ERR_clear_error();
            int written = LibSsl.SSL_write(_ssl, buffer, buffer.Length);
            if (written != buffer.Length)
            {
                int error = LibSsl.SSL_get_error(_ssl, written);
                throw new IOException($"TLS write failed (SSL error {error}): {LibSsl.TakeErrors()}");
            }
        }
    }

    private string ReadProtocol()
    {
        lock (_sslLock)
        {
            return Marshal.PtrToStringUTF8(LibSsl.SSL_get_version(_ssl)) ?? "-";
        }
    }

    private X509Certificate2? ReadPeerCertificate()
    {
        lock (_sslLock)
        {
            IntPtr certificate = LibSsl.SSL_get1_peer_certificate(_ssl);
            if (certificate == IntPtr.Zero)
            {
                return null;
            }

            try
            {
                return X509CertificateLoader.LoadCertificate(LibSsl.EncodeCertificate(certificate));
            }
            finally
            {
                LibSsl.X509_free(certificate);
            }
        }
    }

    /// <summary>Moves ciphertext from the transport into OpenSSL; false when the client has closed.</summary>
    private async ValueTask<bool> ReceiveNetworkInputAsync(CancellationToken cancellationToken)
    {
        ReadResult result = await _transport.Input.ReadAsync(cancellationToken);
        ReadOnlySequence<byte> received = result.Buffer;
        try
        {
            if (received.IsEmpty && result.IsCompleted)
            {
                return false;
            }

            lock (_sslLock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                foreach (ReadOnlyMemory<byte> segment in received)
                {
                    if (LibSsl.BIO_write(_networkInput, segment.Span, segment.Length) != segment.Length)
                    {
                        throw new IOException($"BIO_write failed: {LibSsl.TakeErrors()}");
                    }
                }
            }

            return true;
        }
        finally
        {
            _transport.Input.AdvanceTo(received.End);
        }
    }

    /// <summary>Sends whatever ciphertext OpenSSL has produced, in the order it produced it.</summary>
    private async ValueTask SendNetworkOutputAsync(CancellationToken cancellationToken)
    {
        await _transportLock.WaitAsync(cancellationToken);
        try
        {
            byte[]? pending = TakeNetworkOutput();
            if (pending is not null)
            {
                await _transport.Output.WriteAsync(pending, cancellationToken);
            }
        }
        finally
        {
            _transportLock.Release();
        }
    }

    private byte[]? TakeNetworkOutput()
    {
        lock (_sslLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int pending = checked((int)LibSsl.BIO_ctrl_pending(_networkOutput));
            if (pending == 0)
            {
                return null;
            }

            byte[] ciphertext = new byte[pending];
            int read = LibSsl.BIO_read(_networkOutput, ciphertext, pending);
            if (read != pending)
            {
                throw new IOException($"BIO_read failed: {LibSsl.TakeErrors()}");
            }

            return ciphertext;
        }
    }
}
