using System;
using System.Management.Automation;

namespace StitchMtls.Commands;

/// <summary>
/// Switches back to the certificate and key a renewal replaced, while that certificate is valid: for files by
/// renaming the previous pair back; in a certificate store by removing the renewed certificate and its key.
/// </summary>
// High: in a store the undo deletes the renewed key for good, so it asks unless -Force or -Confirm:$false, and
// refuses where no one can answer. File mode only renames (and can switch forward again): it asks as a Medium
// impact cmdlet would, which ConfirmAt decides, since ShouldProcess alone would use the High impact.
[Cmdlet(VerbsCommon.Undo, "StitchRenewal", DefaultParameterSetName = FileSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.High)]
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

    /// <summary>Store mode: delete the renewed certificate and key without asking.</summary>
    [Parameter(ParameterSetName = FileSet)]
    [Parameter(ParameterSetName = ThumbprintSet)]
    [Parameter(ParameterSetName = CommonNameSet)]
    public SwitchParameter Force { get; set; }

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
            if (!ConfirmAt(ConfirmImpact.Medium, paths.CertificatePath,
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
        string target = undo.Store.WithThumbprint(undo.Renewed.Thumbprint).ToString();
        string action = "Remove the renewed certificate and delete its private key for good (it cannot be added " +
            $"back), leaving {undo.Previous.Thumbprint}, valid until " +
            $"{undo.Previous.NotAfter.ToUniversalTime():yyyy-MM-dd}, in use";
        if (!(Force && !ConfirmNamed && !WhatIfRequested) && !ConfirmAt(ConfirmImpact.High, target, action))
        {
            return;
        }

        string removed = undo.Renewed.Thumbprint;
        WriteObject(undo.Apply(DateTime.UtcNow, new DirectLog(this)));
        ForgetInSession(removed);
    }

    private bool ConfirmNamed => MyInvocation.BoundParameters.ContainsKey("Confirm");

    private bool WhatIfRequested => MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? whatIf)
        ? ((SwitchParameter)whatIf).IsPresent
        : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference", false));

    /// <summary>
    /// ShouldProcess as a cmdlet of <paramref name="impact"/> would do it: it asks only when $ConfirmPreference (or
    /// -Confirm) says so, and where it would have to ask but no one can answer, it refuses with
    /// <c>ConfirmationRequired</c> rather than fail in the host.
    /// </summary>
    private bool ConfirmAt(ConfirmImpact impact, string target, string action)
    {
        if (ConfirmNamed || WhatIfRequested)
        {
            return ShouldProcess(target, action);
        }

        var preference = LanguagePrimitives.ConvertTo<ConfirmImpact>(
            GetVariableValue("ConfirmPreference", ConfirmImpact.High));
        if (preference == ConfirmImpact.None || impact < preference)
        {
            WriteVerbose($"Performing the operation \"{action}\" on target \"{target}\".");
            return true;
        }

        if (!CanPrompt)
        {
            throw new StitchMtlsException("ConfirmationRequired", FailureCategory.InvalidOperation,
                $"{action} on '{target}': this session cannot show a confirmation prompt, so nothing was changed. " +
                "Add -Force (or -Confirm:$false) to run it unattended.", target);
        }

        return ShouldProcess(target, action);
    }
}
