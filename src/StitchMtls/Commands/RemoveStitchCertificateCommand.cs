using System;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Commands;

/// <summary>Deletes a certificate and its private key (compromised or retired) and says what to tell Stitch.</summary>
// Medium, not High: the default prompt is ConfirmDestructive's, which -Force skips and which refuses instead of
// hanging where no one can answer; a High impact would prompt in ShouldProcess even with -Force.
[Cmdlet(VerbsCommon.Remove, "StitchCertificate", DefaultParameterSetName = FilesSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchCertificateRemoval))]
public sealed class RemoveStitchCertificateCommand : StitchCmdlet
{
    private const string FilesSet = "Files";
    private const string StoreSet = "Store";

    [Parameter(ParameterSetName = FilesSet, ValueFromPipelineByPropertyName = true)]
    [Alias("ChainPath")]
    public string? CertificatePath { get; set; }

    [Parameter(ParameterSetName = FilesSet, ValueFromPipelineByPropertyName = true)]
    public string? KeyPath { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = StoreSet, ValueFromPipelineByPropertyName = true)]
    public string Thumbprint { get; set; } = null!;

    [Parameter(ParameterSetName = StoreSet)]
    public string CertStoreLocation { get; set; } = @"Cert:\CurrentUser\My";

    /// <summary>Remove without the confirmation prompt.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            StitchCertificateRemoval? removal = ParameterSetName == StoreSet ? RemoveFromStore() : RemoveFiles();
            if (removal is null)
            {
                return;
            }

            WriteWarning(removal.TellStitch);
            WriteObject(removal);
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
        }
    }

    private StitchCertificateRemoval? RemoveFiles()
    {
        string? certificatePath = CertificatePath is null ? null : ToFileSystemPath(CertificatePath);
        string? keyPath = KeyPath is null ? null : ToFileSystemPath(KeyPath);
        using X509Certificate2? certificate = CertificateRemoval.Identify(certificatePath, keyPath);
        string what = certificate is null ? "the private key" : $"the certificate '{certificate.Subject}'";
        string target = string.Join(" and ", new[] { keyPath, certificatePath }.OfNonNull());
        if (!ShouldProcess(target, $"Overwrite and delete {what} for good")
            || !ConfirmDestructive(Force, $"Delete {target}? A deleted key cannot be recovered.", "Remove " + what))
        {
            return null;
        }

        return CertificateRemoval.RemoveFiles(certificate, certificatePath, keyPath, new DirectLog(this));
    }

    private StitchCertificateRemoval? RemoveFromStore()
    {
        Store.CertificateStorePath store = ParseStoreLocation(CertStoreLocation);
        string target = store.WithThumbprint(Thumbprint).ToString();
        if (!ShouldProcess(target, "Remove the certificate and delete its private key for good")
            || !ConfirmDestructive(Force, $"Remove {target} and its private key? It cannot be recovered.",
                "Remove a certificate"))
        {
            return null;
        }

        return CertificateRemoval.RemoveFromStore(store, Thumbprint, new DirectLog(this));
    }
}

internal static class EnumerableExtensions
{
    public static System.Collections.Generic.IEnumerable<string> OfNonNull(this string?[] values)
    {
        foreach (string? value in values)
        {
            if (value is not null)
            {
                yield return value;
            }
        }
    }
}
