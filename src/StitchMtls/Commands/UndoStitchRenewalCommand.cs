using System;
using System.Management.Automation;

namespace StitchMtls.Commands;

/// <summary>
/// Switches back to the certificate and key a renewal replaced, while that certificate is valid: for files by
/// renaming the previous pair back; in a certificate store by removing the renewed certificate and its key.
/// </summary>
[Cmdlet(VerbsCommon.Undo, "StitchRenewal", DefaultParameterSetName = FileSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchRenewal))]
public sealed class UndoStitchRenewalCommand : RenewalTargetCmdlet
{
    /// <summary>The current chain file, or a renewed store certificate as Cert:\...\&lt;thumbprint&gt;.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = FileSet, ValueFromPipelineByPropertyName = true)]
    [Alias("ChainPath")]
    public string CertificatePath { get; set; } = null!;

    [Parameter(ParameterSetName = FileSet, ValueFromPipelineByPropertyName = true)]
    public string? KeyPath { get; set; }

    /// <summary>Store mode: the thumbprint of the renewed certificate to take back.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ThumbprintSet)]
    public string Thumbprint { get; set; } = null!;

    /// <summary>Store mode: take back the newest valid certificate with this common name.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CommonNameSet)]
    [Alias("CN")]
    public string CommonName { get; set; } = null!;

    [Parameter(ParameterSetName = ThumbprintSet)]
    [Parameter(ParameterSetName = CommonNameSet)]
    [ArgumentCompleter(typeof(CertStoreLocationCompleter))]
    public string CertStoreLocation { get; set; } = Store.CertificateStorePath.CurrentUserMy;

    protected override void ProcessRecord()
    {
        try
        {
            if (TargetsStore(CertificatePath))
            {
                UndoInStore();
                return;
            }

            RenewalPaths paths = RenewalPaths.For(ToFileSystemPath(CertificatePath),
                KeyPath is null ? null : ToFileSystemPath(KeyPath));
            if (!ShouldProcess(paths.CertificatePath,
                $"Switch back to '{paths.PreviousCertificatePath}' and '{paths.PreviousKeyPath}'"))
            {
                return;
            }

            WriteObject(CertificateRenewal.Undo(paths, DateTime.UtcNow, new DirectLog(this)));
        }
        catch (StitchMtlsException ex)
        {
            ThrowScriptTerminating(ex);
        }
    }

    private void UndoInStore()
    {
        (Store.CertificateStorePath store, string? thumbprint) =
            ResolveStoreTarget(CertificatePath, Thumbprint, CertStoreLocation);
        using Store.StoreRenewalUndo undo = Store.StoreRenewal.PrepareUndo(store, thumbprint,
            ParameterSetName == CommonNameSet ? CommonName : null, DateTime.UtcNow);
        if (!ShouldProcess(undo.Store.WithThumbprint(undo.Renewed.Thumbprint).ToString(),
            $"Remove the renewed certificate and its key (it cannot be added back), leaving " +
            $"{undo.Previous.Thumbprint}, valid until {undo.Previous.NotAfter.ToUniversalTime():yyyy-MM-dd}, in use"))
        {
            return;
        }

        WriteObject(undo.Apply(DateTime.UtcNow, new DirectLog(this)));
    }
}
