using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Commands;

/// <summary>
/// How every cmdlet that reaches a Stitch gateway connects, whatever the client certificate's source: which server
/// CA to trust, the proxy, and the timeout. Test-StitchMtls and the token cmdlets take the certificate from
/// <see cref="ClientConnectionCmdlet"/>; Complete-StitchRenewal tests the renewed one with the same options.
/// </summary>
public abstract class ConnectionOptionsCmdlet : StitchCmdlet
{
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSec { get; set; } = 30;

    /// <summary>A PEM file of the CA certificates the server certificate must chain to.</summary>
    [Parameter]
    public string? ServerCertificateAuthority { get; set; }

    /// <summary>An HTTP proxy to tunnel through with CONNECT; by default the one HttpClient would use.</summary>
    [Parameter]
    public Uri? Proxy { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>Connect directly, ignoring HTTPS_PROXY and the system proxy settings.</summary>
    [Parameter]
    public SwitchParameter NoProxy { get; set; }

    protected X509Certificate2Collection? LoadServerAuthorities()
    {
        if (ServerCertificateAuthority is null)
        {
            return null;
        }

        return new X509Certificate2Collection(CertificateFile.Load(ToFileSystemPath(ServerCertificateAuthority))
            .ToArray());
    }

    /// <summary>client_id and client_secret from a -Credential parameter, or null when it was not given.</summary>
    protected static ClientCredential? ToClientCredential(PSCredential? credential) => credential is null
        ? null
        : new ClientCredential(credential.UserName, credential.GetNetworkCredential().Password);

    /// <summary>Connection-test options for one endpoint and certificate, from the bound parameters.</summary>
    protected ConnectionTestOptions NewConnectionTestOptions(StitchEndpoint endpoint, ClientCertificate certificate,
        X509Certificate2Collection? authorities, ClientCredential? credential, IReadOnlyList<string>? scopes = null,
        bool skipPreFlight = false)
    {
        return new ConnectionTestOptions
        {
            Endpoint = endpoint,
            Certificate = certificate,
            ServerCertificateAuthority = authorities,
            Credential = credential,
            Scopes = scopes ?? Array.Empty<string>(),
            Timeout = TimeSpan.FromSeconds(TimeoutSec),
            Proxy = Proxy,
            ProxyCredential = ProxyCredential?.GetNetworkCredential(),
            NoProxy = NoProxy,
            SkipPreFlight = skipPreFlight,
        };
    }
}
