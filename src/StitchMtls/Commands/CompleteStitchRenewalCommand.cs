using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Commands;

/// <summary>
/// Installs the renewed chain beside the current one, tests it against a gateway, and only then switches it in; in
/// a certificate store the renewed certificate is added beside the current one and taken out again if the test
/// fails.
/// </summary>
[Cmdlet(VerbsLifecycle.Complete, "StitchRenewal", DefaultParameterSetName = PathSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchRenewal))]
public sealed class CompleteStitchRenewalCommand : ConnectionOptionsCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private const string StorePathSet = "StorePath";
    private const string StoreLiteralPathSet = "StoreLiteralPath";

    private readonly List<string> _signedPaths = new();

    /// <summary>The signed chain Stitch sent for the renewal CSR.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = StorePathSet, ValueFromPipeline = true)]
    [SupportsWildcards]
    public string[] Path { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Parameter(Mandatory = true, ParameterSetName = StoreLiteralPathSet)]
    [Alias("PSPath", "LP")]
    public string[] LiteralPath { get; set; } = null!;

    /// <summary>The current chain file, the one New-StitchRenewalRequest was given.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("ChainPath")]
    public string CertificatePath { get; set; } = null!;

    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public string? KeyPath { get; set; }

    /// <summary>The password of the pending renewal key, when New-StitchRenewalRequest encrypted it.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public SecureString? KeyPassword { get; set; }

    /// <summary>Store mode: the store the renewal was started in (New-StitchRenewalRequest).</summary>
    [Parameter(Mandatory = true, ParameterSetName = StorePathSet)]
    [Parameter(Mandatory = true, ParameterSetName = StoreLiteralPathSet)]
    [ArgumentCompleter(typeof(CertStoreLocationCompleter))]
    public string CertStoreLocation { get; set; } = null!;

    /// <summary>Store mode: remove the previous certificate and its key once the renewed one passed its test.</summary>
    [Parameter(ParameterSetName = StorePathSet)]
    [Parameter(ParameterSetName = StoreLiteralPathSet)]
    public SwitchParameter RemovePrevious { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string Endpoint { get; set; } = "Secure";

    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Switch without testing the renewed certificate against a gateway.</summary>
    [Parameter]
    public SwitchParameter SkipTest { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName is LiteralPathSet or StoreLiteralPathSet)
        {
            _signedPaths.AddRange(LiteralPath.Select(ToFileSystemPath));
            return;
        }

        foreach (string pattern in Path)
        {
            try
            {
                _signedPaths.AddRange(GetResolvedProviderPathFromPSPath(pattern, out _));
            }
            catch (ItemNotFoundException ex)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "CertificateFileNotFound", ErrorCategory.ObjectNotFound,
                    pattern));
            }
        }
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName is StorePathSet or StoreLiteralPathSet)
        {
            CompleteInStore();
            return;
        }

        char[] password = Reveal(KeyPassword);
        try
        {
            RenewalPaths paths = RenewalPaths.For(ToFileSystemPath(CertificatePath),
                KeyPath is null ? null : ToFileSystemPath(KeyPath));
            Func<ClientCertificate, ConnectionTestOptions>? testOptions = SkipTest ? null : TestOptions();
            var log = new DirectLog(this);
            using RenewalCompletion completion = CertificateRenewal.PrepareCompletion(paths, _signedPaths, password,
                DateTime.UtcNow, log);
            string test = SkipTest ? "without a test" : $"after a handshake with {Endpoint}";
            if (!ShouldProcess(paths.CertificatePath,
                $"Switch to the renewed certificate {completion.Leaf.Thumbprint} {test}, keeping the current one " +
                "as *.previous"))
            {
                return;
            }

            if (SkipTest)
            {
                WriteWarning("-SkipTest: the renewed certificate is switched in without a test. Run " +
                    "Test-StitchMtls now; Undo-StitchRenewal switches back while the previous one is valid.");
            }

            StitchRenewal renewal = RunWithPipelineLog((pipelineLog, token) =>
                    completion.CompleteAsync(testOptions, DateTime.UtcNow, pipelineLog, token),
                $"Completing the renewal of {completion.Leaf.GetNameInfo(X509NameType.SimpleName, false)}");
            WriteObject(renewal);
            if (renewal.PreviousRemoved)
            {
                ForgetInSession(renewal.PreviousThumbprint);
            }
        }
        catch (StitchMtlsException ex)
        {
            ThrowScriptTerminating(ex);
        }
        finally
        {
            Array.Clear(password);
        }
    }

    private void CompleteInStore()
    {
        try
        {
            Store.StoreRenewal.CheckCompletionOptions(SkipTest, RemovePrevious);
            Store.CertificateStorePath store = ParseStoreLocation(CertStoreLocation);
            Func<ClientCertificate, ConnectionTestOptions>? testOptions = SkipTest ? null : TestOptions();
            using Store.StoreRenewalCompletion completion = Store.StoreRenewal.PrepareCompletion(store, _signedPaths,
                pendingKeys: null, DateTime.UtcNow, new DirectLog(this));
            string test = SkipTest ? "without a test" : $"tested with {Endpoint}";
            string previous = !completion.PreviousPresent
                ? string.Empty
                : RemovePrevious
                    ? $", then remove the previous certificate {completion.PreviousThumbprint} and its key"
                    : $", keeping the previous certificate {completion.PreviousThumbprint}";
            if (!ShouldProcess(completion.Store.ToString(),
                $"Add the renewed certificate {completion.Leaf.Thumbprint} {test}{previous}"))
            {
                return;
            }

            if (SkipTest)
            {
                WriteWarning("-SkipTest: the renewed certificate is added without a test, and -CommonName picks it " +
                    "from now on. Run Test-StitchMtls now; Undo-StitchRenewal removes it while the previous one is " +
                    "in the store and valid.");
            }

            StitchRenewal renewal = RunWithPipelineLog((pipelineLog, token) =>
                    completion.CompleteAsync(testOptions, RemovePrevious, DateTime.UtcNow, pipelineLog, token),
                $"Completing the renewal of {completion.Leaf.GetNameInfo(X509NameType.SimpleName, false)}");
            WriteObject(renewal);
            if (renewal.PreviousRemoved)
            {
                ForgetInSession(renewal.PreviousThumbprint);
            }
        }
        catch (StitchMtlsException ex)
        {
            ThrowScriptTerminating(ex);
        }
    }

    private Func<ClientCertificate, ConnectionTestOptions> TestOptions()
    {
        StitchEndpoint endpoint = StitchEndpoint.Resolve(Endpoint);
        X509Certificate2Collection? authorities = LoadServerAuthorities();
        ClientCredential? credential = ToClientCredential(Credential);
        return certificate => NewConnectionTestOptions(endpoint, certificate, authorities, credential);
    }
}
