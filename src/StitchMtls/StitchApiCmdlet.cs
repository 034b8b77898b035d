using System;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Commands;

/// <summary>
/// What the cmdlets that get tokens share on top of the connection parameters: who the client is, how it proves
/// it (a secret, or a private_key_jwt assertion), and which scopes it asks for.
/// </summary>
public abstract class StitchApiCmdlet : ClientConnectionCmdlet
{
    /// <summary>client_id as the user name and client_secret as the password.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>The client_id, for private_key_jwt without -Credential.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientId { get; set; }

    /// <summary>
    /// Signs a private_key_jwt client assertion instead of sending a client secret: a certificate with its key,
    /// a certificate file, or a <c>Cert:\&lt;location&gt;\My\&lt;thumbprint&gt;</c> path, as -Certificate takes.
    /// </summary>
    [Parameter]
    [CertificateStorePathTransformation]
    public X509Certificate2? ClientAssertionCertificate { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(ScopeCompleter))]
    public string[] Scope { get; set; } = Array.Empty<string>();

    /// <summary>
    /// The session's connection pool for the bound certificate, after the pre-flight check: a certificate that
    /// cannot work (expired, key missing or wrong) fails here, before any traffic, with the pre-flight's ErrorId.
    /// </summary>
    protected MtlsConnectionPool OpenPool()
    {
        X509Certificate2Collection? authorities = LoadServerAuthorities();
        ClientCertificate certificate = LoadClientCertificate();
        PreFlightOutcome outcome = PreFlight.Check(certificate, DateTime.UtcNow);
        if (outcome.FailureId is not null)
        {
            string subject = certificate.Leaf.Subject;
            certificate.Dispose();
            throw new StitchMtlsException(outcome.FailureId, FailureCategory.SecurityError, outcome.FailureText!,
                subject);
        }

        return MtlsConnectionPool.ForSession(new MtlsConnectionSettings
        {
            Certificate = certificate,
            ServerCertificateAuthority = authorities,
            Proxy = Proxy,
            ProxyCredential = ProxyCredential?.GetNetworkCredential(),
            NoProxy = NoProxy,
        });
    }

    /// <summary>A token provider for <paramref name="tokenEndpoint"/> with the bound credential parameters.</summary>
    protected AccessTokenProvider CreateTokenProvider(StitchEndpoint tokenEndpoint, MtlsConnectionPool pool)
    {
        if (ClientId is not null && Credential is not null && ClientId != Credential.UserName)
        {
            throw new StitchMtlsException("ClientIdConflict", FailureCategory.InvalidArgument, $"-ClientId " +
                $"'{ClientId}' and the user name of -Credential '{Credential.UserName}' differ. Give one of them.",
                ClientId);
        }

        string? secret = ClientAssertionCertificate is null ? Credential?.GetNetworkCredential().Password : null;
        if (ClientAssertionCertificate is not null && Credential is not null
            && Credential.GetNetworkCredential().Password.Length > 0)
        {
            WriteVerbose("-ClientAssertionCertificate is given: the client secret in -Credential is not sent.");
        }

        X509Certificate2? assertion = ClientAssertionCertificate;
        if (assertion is CertificateStorePathReference reference)
        {
            assertion = reference.Resolve();
            WriteVerbose($"Signing the client assertion with '{assertion.Subject}' ({assertion.Thumbprint}) from " +
                $"'{reference.Path}'.");
        }

        return new AccessTokenProvider(new AccessTokenRequest
        {
            Endpoint = tokenEndpoint,
            ClientId = ClientId ?? Credential?.UserName ?? string.Empty,
            ClientSecret = secret,
            AssertionCertificate = assertion,
            Scopes = Scope,
        }, pool);
    }
}
