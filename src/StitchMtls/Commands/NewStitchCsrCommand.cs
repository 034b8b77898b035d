using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation.Language;
using System.Management.Automation;
using System.Security;
using System.Threading.Tasks;
using StitchMtls.Store;

namespace StitchMtls.Commands;

/// <summary>Generates a private key and the CSR Stitch signs.</summary>
[Cmdlet(VerbsCommon.New, "StitchCsr", DefaultParameterSetName = KeyFileSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchCsr))]
public sealed class NewStitchCsrCommand : StitchCmdlet
{
    private const string KeyFileSet = "KeyFile";
    private const string StoreSet = "Store";

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

    [Parameter(ParameterSetName = KeyFileSet)]
    public SecureString? KeyPassword { get; set; }

    /// <summary>Create the key for a certificate store instead of a key file; the CSR is still a file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = StoreSet)]
    [ArgumentCompleter(typeof(CertStoreLocationCompleter))]
    public string CertStoreLocation { get; set; } = null!;

    /// <summary>Windows: let the CNG key be exported later (Export-StitchCertificate).</summary>
    [Parameter(ParameterSetName = StoreSet)]
    public SwitchParameter Exportable { get; set; }

    /// <summary>Windows: the CNG key storage provider, e.g. 'Microsoft Platform Crypto Provider' for the TPM.</summary>
    [Parameter(ParameterSetName = StoreSet)]
    [ArgumentCompleter(typeof(KeyStorageProviderCompleter))]
    public string? KeyStorageProvider { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        NewCsrRequest request;
        StoreKeyOptions? store = null;
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
            if (ParameterSetName == StoreSet)
            {
                store = new StoreKeyOptions
                {
                    Location = ParseStoreLocation(CertStoreLocation),
                    Exportable = Exportable,
                    KeyStorageProvider = string.IsNullOrWhiteSpace(KeyStorageProvider) ? null : KeyStorageProvider,
                };
                CertificateSigningRequest.CheckDestinations(request, store, Force);
            }
            else
            {
                CertificateSigningRequest.CheckDestinations(request, Force);
            }
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

        string target = store is null
            ? $"{request.KeyPath} and {request.CsrPath}"
            : $"{store.Location} (pending key) and {request.CsrPath}";
        if (!ShouldProcess(target, $"Create an RSA-{request.KeySize} private key and CSR for {request.Subject}"))
        {
            return;
        }

        char[] password = Reveal(KeyPassword);
        try
        {
            StitchCsr csr = RunWithPipelineLog((log, token) => Task.FromResult(store is null
                    ? CertificateSigningRequest.Create(request, password, Force, log, token)
                    : CertificateSigningRequest.CreateInStore(request, store, Force, log, token)),
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

/// <summary>The CNG providers Windows ships: software, and the TPM.</summary>
public sealed class KeyStorageProviderCompleter : IArgumentCompleter
{
    private static readonly string[] s_providers =
    {
        "Microsoft Software Key Storage Provider",
        "Microsoft Platform Crypto Provider",
    };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = wordToComplete.Trim('\'', '"');
        return s_providers
            .Where(provider => provider.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
            .Select(provider => new CompletionResult($"'{provider}'", provider, CompletionResultType.ParameterValue,
                provider));
    }
}
