using System.Management.Automation;
using StitchMtls.Store;

namespace StitchMtls.Commands;

/// <summary>Gives a service account read access to a store certificate's private key (Windows).</summary>
[Cmdlet(VerbsSecurity.Grant, "StitchKeyAccess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(StitchKeyAccess))]
public sealed class GrantStitchKeyAccessCommand : StitchCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Thumbprint { get; set; } = null!;

    /// <summary>The account, as DOMAIN\name, 'NT AUTHORITY\NETWORK SERVICE' or a gMSA DOMAIN\name$.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [Alias("User")]
    public string Account { get; set; } = null!;

    [Parameter]
    [ArgumentCompleter(typeof(CertStoreLocationCompleter))]
    public string CertStoreLocation { get; set; } = CertificateStorePath.CurrentUserMy;

    protected override void BeginProcessing()
    {
        try
        {
            KeyAccess.EnsureSupported();
        }
        catch (StitchMtlsException ex)
        {
            ThrowFailure(ex);
        }
    }

    protected override void ProcessRecord()
    {
        try
        {
            CertificateStorePath store = ParseStoreLocation(CertStoreLocation);
            CertificateStorePath target = store.WithThumbprint(Thumbprint);
            if (ShouldProcess(target.ToString(), $"Give '{Account}' read access to the private key"))
            {
                WriteObject(KeyAccess.Grant(store, Thumbprint, Account, new DirectLog(this)));
            }
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
        }
    }
}
