using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Commands;

/// <summary>
/// What every cmdlet that connects to Stitch with an installed certificate shares: where the client certificate
/// comes from (the server CA, proxy and timeout come from <see cref="ConnectionOptionsCmdlet"/>). New certificate
/// sources are added here once, and every such cmdlet gains them.
/// </summary>
public abstract class ClientConnectionCmdlet : ConnectionOptionsCmdlet
{
    protected const string FilesSet = "Files";
    protected const string CertificateSet = "Certificate";
    protected const string ThumbprintSet = "Thumbprint";
    protected const string CommonNameSet = "CommonName";

    /// <summary>The chain file Import-StitchChain wrote (leaf first; intermediates are sent too).</summary>
    [Parameter(Mandatory = true, ParameterSetName = FilesSet, ValueFromPipelineByPropertyName = true)]
    [Alias("ChainPath")]
    public string CertificatePath { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = FilesSet, ValueFromPipelineByPropertyName = true)]
    public string KeyPath { get; set; } = null!;

    [Parameter(ParameterSetName = FilesSet)]
    public SecureString? KeyPassword { get; set; }

    /// <summary>
    /// A certificate that carries its private key, such as an Azure Automation certificate asset or an item of
    /// Get-ChildItem Cert:\CurrentUser\My; or a <c>Cert:\&lt;location&gt;\My\&lt;thumbprint&gt;</c> path, read on every
    /// platform (PowerShell on Linux has no Cert: drive).
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = CertificateSet, ValueFromPipeline = true)]
    [CertificateStorePathTransformation]
    public X509Certificate2 Certificate { get; set; } = null!;

    /// <summary>The thumbprint of a certificate in -CertStoreLocation.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ThumbprintSet)]
    public string Thumbprint { get; set; } = null!;

    /// <summary>
    /// The common name of a certificate in -CertStoreLocation: the newest currently valid one with a private key
    /// is used, so a renewed certificate is picked up without editing anything.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = CommonNameSet)]
    public string CommonName { get; set; } = null!;

    [Parameter(ParameterSetName = ThumbprintSet)]
    [Parameter(ParameterSetName = CommonNameSet)]
    [ArgumentCompleter(typeof(CertStoreLocationCompleter))]
    public string CertStoreLocation { get; set; } = Store.CertificateStorePath.CurrentUserMy;

    /// <summary>
    /// A PEM file with the intermediate CA certificates to send with -Certificate, for certificates whose chain is
    /// in no certificate store (an Azure Automation asset, a PFX loaded in memory).
    /// </summary>
    [Parameter(ParameterSetName = CertificateSet)]
    public string? IntermediatePath { get; set; }

    protected override void BeginProcessing()
    {
        if (Proxy is not null && Proxy.Scheme != Uri.UriSchemeHttp)
        {
            ThrowFailure(new StitchMtlsException("ProxySchemeUnsupported", FailureCategory.InvalidArgument,
                $"The proxy '{Proxy}' is not an http:// proxy. Give it as http://host:port; the TLS to Stitch runs " +
                "inside the CONNECT tunnel either way.", Proxy.ToString()));
        }

        if (Proxy is not null && NoProxy)
        {
            ThrowFailure(new StitchMtlsException("ProxyConflict", FailureCategory.InvalidArgument,
                "-Proxy and -NoProxy contradict each other. Give one of them.", Proxy.ToString()));
        }
    }

    /// <summary>The client certificate from whichever source the bound parameter set names.</summary>
    protected ClientCertificate LoadClientCertificate()
    {
        if (ParameterSetName is ThumbprintSet or CommonNameSet)
        {
            Store.CertificateStorePath store = ParseStoreLocation(CertStoreLocation);
            X509Certificate2 found = ParameterSetName == ThumbprintSet
                ? Store.StoreCertificates.FindByThumbprint(store, Thumbprint)
                : Store.StoreCertificates.FindByCommonName(store, CommonName, DateTime.UtcNow, requireKey: true);
            WriteVerbose($"Using '{found.Subject}' ({found.Thumbprint}, expires {found.NotAfter:yyyy-MM-dd}) " +
                $"from '{store}'.");
            return ClientCertificate.FromCertificate(found);
        }

        if (ParameterSetName == CertificateSet)
        {
            IReadOnlyList<X509Certificate2>? intermediates = IntermediatePath is null
                ? null
                : CertificateFile.Load(ToFileSystemPath(IntermediatePath));
            if (Certificate is CertificateStorePathReference reference)
            {
                X509Certificate2 resolved = reference.Resolve();
                WriteVerbose($"Using '{resolved.Subject}' ({resolved.Thumbprint}, expires " +
                    $"{resolved.NotAfter:yyyy-MM-dd}) from '{reference.Path}'.");
                return ClientCertificate.FromCertificate(resolved, intermediates);
            }

            return ClientCertificate.FromCertificate(new X509Certificate2(Certificate), intermediates);
        }

        char[] password = Reveal(KeyPassword);
        try
        {
            return ClientCertificate.FromFiles(ToFileSystemPath(CertificatePath), ToFileSystemPath(KeyPath), password);
        }
        finally
        {
            Array.Clear(password);
        }
    }
}
