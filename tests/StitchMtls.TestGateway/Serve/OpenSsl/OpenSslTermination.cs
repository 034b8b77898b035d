using System;
using System.IO;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace StitchMtls.TestGateway.Serve.OpenSsl;

/// <summary>
/// Kestrel connection middleware that terminates TLS with OpenSSL, so that a rejected client certificate gets
/// the TLS alert a real gateway would send. HTTP then runs over the decrypted stream, HTTP/1.1 only (no ALPN).
/// </summary>
internal sealed class OpenSslTermination : ITlsTermination
{
    private static readonly TimeSpan s_handshakeTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan s_lingerAfterRejection = TimeSpan.FromSeconds(2);

    private readonly OpenSslServerContext _context;
    private readonly ConnectionLog _connections;
    private readonly TextWriter _diagnostics;

    /// <param name="context">The TLS settings every connection shares.</param>
    /// <param name="connections">Where a completed handshake is logged.</param>
    /// <param name="diagnostics">Where a rejected handshake is reported, one line each.</param>
    public OpenSslTermination(OpenSslServerContext context, ConnectionLog connections, TextWriter diagnostics)
    {
        _context = context;
        _connections = connections;
        _diagnostics = diagnostics;
    }

    public void Dispose() => _context.Dispose();

    public void Apply(ListenOptions listen)
    {
        listen.Protocols = HttpProtocols.Http1;
        listen.Use(next => connection => TerminateAsync(connection, next));
    }

    private async Task TerminateAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        IDuplexPipe transport = connection.Transport;
        await using OpenSslServerStream tls = _context.CreateSession(transport);

        using (var handshakeTime = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
        {
            handshakeTime.CancelAfter(s_handshakeTimeout);
            try
            {
                await tls.HandshakeAsync(handshakeTime.Token);
            }
            catch (TlsHandshakeRejectedException e)
            {
                _diagnostics.WriteLine($"REJECTED cn={ClientIdentity.ForLog(e.ClientCommonName)} reason={e.Message}");
                await tls.DrainAfterRejectionAsync(s_lingerAfterRejection);
                return;
            }
            catch (OperationCanceledException)
            {
                string reason = connection.ConnectionClosed.IsCancellationRequested
                    ? "the connection closed during the TLS handshake"
                    : $"the TLS handshake did not finish within {s_handshakeTimeout.TotalSeconds} seconds";
                _diagnostics.WriteLine($"REJECTED cn={ClientIdentity.Unknown} reason={reason}");
                return;
            }
        }

        _connections.HandshakeCompleted(
            ConnectionNumber.Of(connection),
            ClientIdentity.CommonNameOf(tls.ClientCertificate),
            tls.Protocol);
        connection.Features.Set<ITlsConnectionFeature>(new ClientCertificateFeature(tls.ClientCertificate));
        connection.Transport = new DecryptedTransport(
            PipeReader.Create(tls, new StreamPipeReaderOptions(leaveOpen: true)),
            PipeWriter.Create(tls, new StreamPipeWriterOptions(leaveOpen: true)));
        try
        {
            await next(connection);
            await tls.ShutdownAsync(CancellationToken.None);
        }
        catch (IOException)
        {
            // The client went away mid-stream; there is nobody left to send close_notify to.
        }
        finally
        {
            connection.Transport = transport;
        }
    }

    private sealed class DecryptedTransport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
