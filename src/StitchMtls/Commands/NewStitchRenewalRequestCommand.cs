using System;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;

namespace StitchMtls.Commands;

/// <summary>Starts a renewal: a new key and a CSR with exactly the current certificate's subject.</summary>
[Cmdlet(VerbsCommon.New, "StitchRenewalRequest", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchRenewalRequest))]
public sealed class NewStitchRenewalRequestCommand : StitchCmdlet
{
    /// <summary>The current chain file (Import-StitchChain's output).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ChainPath")]
    public string CertificatePath { get; set; } = null!;

    /// <summary>The current key; found beside a '&lt;name&gt;-chain.pem' chain when left out.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? KeyPath { get; set; }

    /// <summary>The folder the CSR is written to; the current certificate's folder by default.</summary>
    [Parameter]
    [Alias("Destination")]
    public string? Path { get; set; }

    [Parameter]
    public SecureString? KeyPassword { get; set; }

    [Parameter]
    [ValidateSet("2048", "3072", "4096")]
    public int? KeySize { get; set; }

    /// <summary>Replace a pending renewal of the same certificate.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        RenewalPaths paths;
        string csrPath;
        int keySize;
        try
        {
            if (KeyPassword is { Length: 0 })
            {
                throw new StitchMtlsException("KeyPasswordEmpty", FailureCategory.InvalidArgument,
                    "The -KeyPassword is empty. Give a password to encrypt the new key, or leave out -KeyPassword " +
                    "for an unencrypted key file protected by its permissions.", null);
            }

            paths = RenewalPaths.For(ToFileSystemPath(CertificatePath),
                KeyPath is null ? null : ToFileSystemPath(KeyPath));
            csrPath = paths.DefaultCsrPath(Path is null ? null : ToFileSystemPath(Path));
            using X509Certificate2 current = CertificateRenewal.CheckRequest(paths, csrPath, Force);
            keySize = CertificateRenewal.ChooseKeySize(current, KeySize);
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
            return;
        }

        if (keySize != NewCsrRequest.DefaultKeySize)
        {
            WriteWarning($"Stitch's documentation uses RSA 4096-bit keys; the new key will be {keySize} bits. " +
                "Confirm with Stitch that they accept it.");
        }

        string target = $"{paths.PendingKeyPath}, {csrPath} and {paths.RecordPath}";
        if (!ShouldProcess(target, $"Create a new RSA-{keySize} key and renewal CSR for '{paths.CertificatePath}'"))
        {
            return;
        }

        char[] password = Reveal(KeyPassword);
        try
        {
            StitchRenewalRequest request = RunWithPipelineLog((log, token) =>
                    Task.FromResult(CertificateRenewal.Request(paths, csrPath, keySize, password, Force,
                        DateTime.UtcNow, log, token)),
                $"Generating an RSA-{keySize} renewal key");
            WriteObject(request);
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
        }
        finally
        {
            Array.Clear(password);
        }
    }
}
