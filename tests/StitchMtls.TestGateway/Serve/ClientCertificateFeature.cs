using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http.Features;

namespace StitchMtls.TestGateway.Serve;

/// <summary>Hands the certificate checked during the handshake to the HTTP layer (HttpContext.Connection).</summary>
internal sealed class ClientCertificateFeature : ITlsConnectionFeature
{
    public ClientCertificateFeature(X509Certificate2? clientCertificate)
    {
        ClientCertificate = clientCertificate;
    }

    public X509Certificate2? ClientCertificate { get; set; }

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) =>
        Task.FromResult(ClientCertificate);
}
