using System;
using System.Management.Automation;

namespace StitchMtls.Commands;

/// <summary>Switches back to the certificate and key a renewal replaced, while that certificate is valid.</summary>
[Cmdlet(VerbsCommon.Undo, "StitchRenewal", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchRenewal))]
public sealed class UndoStitchRenewalCommand : StitchCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ChainPath")]
    public string CertificatePath { get; set; } = null!;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? KeyPath { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
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
            WriteFailure(ex);
        }
    }
}
