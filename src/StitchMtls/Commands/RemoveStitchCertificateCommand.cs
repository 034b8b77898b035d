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

    /// <summary>Remove only the certificate file: its key is kept elsewhere (a store, an HSM) or is gone.</summary>
    [Parameter(ParameterSetName = FilesSet)]
    public SwitchParameter CertificateOnly { get; set; }

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
            if (CertificateOnly)
            {
                WriteWarning($"The private key of '{removal.Subject}' was not removed (-CertificateOnly). If it " +
                    "may be compromised, delete it as well.");
            }

            ForgetInSession(removal.Thumbprint);
            WriteObject(removal);
        }
        catch (StitchMtlsException ex)
        {
            // A compromise clean-up must not look done when a step failed (a mistyped thumbprint, a key that does
            // not match): the failure ends the script, and the items still to come from the pipeline with it.
            ThrowScriptTerminating(ex);
        }
    }

    private StitchCertificateRemoval? RemoveFiles()
    {
        string? certificatePath = CertificatePath is null ? null : ToFileSystemPath(CertificatePath);
        string? keyPath = KeyPath is null ? null : ToFileSystemPath(KeyPath);
        if (CertificateOnly && keyPath is not null)
        {
            throw new StitchMtlsException("CertificateOnlyWithKeyPath", FailureCategory.InvalidArgument,
                "-CertificateOnly keeps the key, -KeyPath removes it. Give one of them.", keyPath);
        }

        using X509Certificate2? certificate = CertificateRemoval.Identify(certificatePath, keyPath);
        if (certificate is not null && keyPath is null && !CertificateOnly)
        {
            keyPath = CertificateRemoval.FindKeyBeside(certificate, certificatePath!);
            WriteVerbose($"The private key of '{certificate.Subject}' is '{keyPath}' (same public key).");
        }

        string what = certificate is null
            ? "the private key"
            : keyPath is null
                ? $"the certificate '{certificate.Subject}' (keeping its key)"
                : $"the certificate '{certificate.Subject}' and its private key";
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
