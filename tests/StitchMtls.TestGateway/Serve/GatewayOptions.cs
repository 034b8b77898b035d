using System.Collections.Generic;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.TestGateway.Pki;

namespace StitchMtls.TestGateway.Serve;

/// <summary>What <c>serve</c> was asked for.</summary>
/// <param name="Pki">The private CA: the root that client certificates must chain to.</param>
/// <param name="Protocols">The TLS versions to offer.</param>
/// <param name="AllowedCommonNames">Client CNs let through; null lets every trusted client through.</param>
/// <param name="ClientId">The OAuth client_id the token endpoint accepts.</param>
/// <param name="ClientSecret">The client_secret that goes with <paramref name="ClientId"/>.</param>
/// <param name="Port">The loopback port; 0 for any free one.</param>
/// <param name="Engine">The TLS implementation.</param>
/// <param name="ServerCertificate">The certificate the gateway presents, and its chain.</param>
/// <param name="StallAfterHandshake">True to accept the handshake and then never answer a request.</param>
/// <param name="ClientAssertionCertificate">The client's registered certificate for private_key_jwt, or null.</param>
/// <param name="TokenLifetimeSeconds">The expires_in of issued tokens, and how long the API accepts them.</param>
/// <param name="ApiFault">What the API endpoints do wrong, for retry tests.</param>
internal sealed record GatewayOptions(
    PkiDirectory Pki,
    SslProtocols Protocols,
    IReadOnlySet<string>? AllowedCommonNames,
    string ClientId,
    string ClientSecret,
    int Port,
    TlsEngine Engine,
    ServerCertificateFiles ServerCertificate,
    bool StallAfterHandshake,
    X509Certificate2? ClientAssertionCertificate,
    int TokenLifetimeSeconds,
    ApiFault ApiFault);
