using System;
using System.Management.Automation;
using System.Security;
using System.Threading.Tasks;

namespace StitchMtls.Commands;

/// <summary>Generates a private key and the CSR Stitch signs.</summary>
[Cmdlet(VerbsCommon.New, "StitchCsr", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchCsr))]
public sealed class NewStitchCsrCommand : StitchCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("CN")]
    public string CommonName { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("O")]
    public string Organization { get; set; } = null!;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("C")]
    public string Country { get; set; } = "ZA";

    [Parameter]
    [ValidateSet("2048", "3072", "4096")]
    public int KeySize { get; set; } = NewCsrRequest.DefaultKeySize;

    /// <summary>The folder the key and CSR are written to.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Destination")]
    public string? Path { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = NewCsrRequest.DefaultName;

    [Parameter]
    public SecureString? KeyPassword { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        NewCsrRequest request;
        try
        {
            if (KeyPassword is { Length: 0 })
            {
                throw new StitchMtlsException("KeyPasswordEmpty", FailureCategory.InvalidArgument,
                    "The -KeyPassword is empty. Give a password to encrypt the key, or leave out -KeyPassword for " +
                    "an unencrypted key file protected by its permissions.", null);
            }

            var subject = new CsrSubject(CommonName, Organization, Country);
            request = new NewCsrRequest(subject, KeySize, ToFileSystemPath(Path ?? "."), Name);
            CertificateSigningRequest.CheckDestinations(request, Force);
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
            return;
        }

        if (!request.Subject.FollowsRecommendedForm)
        {
            WriteWarning($"The common name '{request.Subject.CommonName}' does not follow the recommended form " +
                "<purpose>-<environment>.<domain>, for example 'stitch-prod.example.com'. The CN identifies your " +
                "traffic at Stitch's gateway, so a name that says what and which environment helps everyone.");
        }

        if (request.KeySize != NewCsrRequest.DefaultKeySize)
        {
            WriteWarning($"Stitch's documentation uses RSA 4096-bit keys; this key will be {request.KeySize} bits. " +
                "Confirm with Stitch that they accept it.");
        }

        string target = $"{request.KeyPath} and {request.CsrPath}";
        if (!ShouldProcess(target, $"Create an RSA-{request.KeySize} private key and CSR for {request.Subject}"))
        {
            return;
        }

        char[] password = Reveal(KeyPassword);
        try
        {
            StitchCsr csr = RunWithPipelineLog((log, token) =>
                    Task.FromResult(CertificateSigningRequest.Create(request, password, Force, log, token)),
                $"Generating an RSA-{request.KeySize} key for {request.Subject.CommonName}");
            WriteObject(csr);
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
