using System;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Store;

namespace StitchMtls.Commands;

/// <summary>Exports a store certificate with its key and chain as an AES-256 PKCS#12 file.</summary>
[Cmdlet(VerbsData.Export, "StitchCertificate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchCertificateExport))]
public sealed class ExportStitchCertificateCommand : StitchCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Thumbprint { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1)]
    public string PfxPath { get; set; } = null!;

    [Parameter(Mandatory = true)]
    public SecureString PfxPassword { get; set; } = null!;

    [Parameter]
    [ArgumentCompleter(typeof(CertStoreLocationCompleter))]
    public string CertStoreLocation { get; set; } = CertificateStorePath.CurrentUserMy;

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        char[] password = Reveal(PfxPassword);
        try
        {
            CertificateStorePath store = ParseStoreLocation(CertStoreLocation);
            string path = ToFileSystemPath(PfxPath);
            X509Certificate2 certificate = StoreCertificates.FindByThumbprint(store, Thumbprint);
            StitchMtls.FileSet.EnsureWritable(new[] { path }, Force);
            if (ShouldProcess(path, $"Export '{certificate.Subject}' ({certificate.Thumbprint}) with its private key"))
            {
                WriteObject(CertificateExport.ToPkcs12(certificate, path, password, Force, new DirectLog(this)));
            }
        }
        catch (StitchMtlsException ex)
        {
            // Export names one certificate: when it cannot be exported the script must not carry on as if it had.
            ThrowScriptTerminating(ex);
        }
        finally
        {
            Array.Clear(password);
        }
    }
}
