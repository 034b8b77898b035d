using System.IO;
using System.Linq;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.TestGateway.Pki;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// Decides, during the TLS handshake, whether a client certificate is one the gateway's CA issued.
/// </summary>
/// <remarks>
/// Used by <see cref="SslStreamTermination"/> only. SslStream builds the client's chain with the policy from
/// <see cref="CreateChainPolicy"/>, adding the intermediates the client sent. Where SslStream can send an alert
/// (SChannel on Windows, by the .NET sources) it picks it from that chain's status: UntrustedRoot or PartialChain
/// give unknown_ca, NotTimeValid certificate_expired, NotValidForUsage bad_certificate; so the check must be that
/// chain's, not a second chain built here. On Linux with .NET 10 no alert is sent at all.
/// </remarks>
internal sealed class ClientCertificatePolicy
{
    private readonly X509Certificate2 _root;
    private readonly TextWriter _diagnostics;

    /// <param name="root">The only trust anchor.</param>
    /// <param name="diagnostics">Where a rejected certificate is reported, one line each.</param>
    public ClientCertificatePolicy(X509Certificate2 root, TextWriter diagnostics)
    {
        _root = root;
        _diagnostics = diagnostics;
    }

    /// <summary>
    /// A new policy for one connection (SslStream adds the client's intermediates to the policy it is given, so
    /// connections must not share one): the gateway's root as the only anchor, no revocation check, no
    /// downloads, and the clientAuth extended key usage when the leaf has that extension at all.
    /// </summary>
    public X509ChainPolicy CreateChainPolicy()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.Add(_root);
        policy.ApplicationPolicy.Add(CertificateExtensions.ClientAuthentication);
        return policy;
    }

    /// <summary>Accepts the certificate when the chain SslStream built with our policy has no error.</summary>
    public bool Validate(X509Certificate2 certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        string reason = chain is null || chain.ChainStatus.Length == 0
            ? errors.ToString()
            : string.Join(',', chain.ChainStatus.Select(status => status.Status).Distinct());
        string commonName = ClientIdentity.ForLog(ClientIdentity.CommonNameOf(certificate));
        _diagnostics.WriteLine($"REJECTED cn={commonName} reason={reason}");
        return false;
    }
}
