using System.IO;
using System.Threading;
using StitchMtls.TestGateway.Serve;

namespace StitchMtls.TestGateway;

/// <summary>
/// Numbers the TCP connections a server accepts and writes one line for each, <c>CONNECTION n=&lt;k&gt;</c>, before
/// any byte is read; the gateway adds <c>HANDSHAKE n=&lt;k&gt; cn=&lt;client CN&gt; protocol=&lt;TLSv1.3&gt;</c> for
/// each connection whose TLS handshake it completed. Tests count these lines to show that a client did, or did
/// not, reach the server.
/// </summary>
internal sealed class ConnectionLog
{
    private readonly TextWriter _output;
    private int _accepted;

    public ConnectionLog(TextWriter output)
    {
        _output = output;
    }

    /// <summary>Logs a newly accepted connection and returns its number, counting from 1.</summary>
    public int Accepted()
    {
        int number = Interlocked.Increment(ref _accepted);
        _output.WriteLine($"CONNECTION n={number}");
        return number;
    }

    /// <summary>Logs that connection <paramref name="number"/> completed its TLS handshake.</summary>
    /// <param name="number">What <see cref="Accepted"/> returned for the connection.</param>
    /// <param name="clientCommonName">The CN of the client's leaf, or null.</param>
    /// <param name="protocol">The version in OpenSSL's spelling, as <c>TLSv1.2</c>.</param>
    public void HandshakeCompleted(int number, string? clientCommonName, string protocol)
    {
        string commonName = ClientIdentity.ForLog(clientCommonName);
        _output.WriteLine($"HANDSHAKE n={number} cn={commonName} protocol={protocol}");
    }
}
