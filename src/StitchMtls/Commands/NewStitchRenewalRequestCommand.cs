using System;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;

namespace StitchMtls.Commands;

/// <summary>
/// Starts a renewal: a new key and a CSR with exactly the current certificate's subject, for a chain file or for a
/// certificate in a certificate store.
/// </summary>
[Cmdlet(VerbsCommon.New, "StitchRenewalRequest", DefaultParameterSetName = FileSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchRenewalRequest))]
public sealed class NewStitchRenewalRequestCommand : RenewalTargetCmdlet
{
    /// <summary>The current chain file (Import-StitchChain's output), or a Cert:\ path with a thumbprint.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = FileSet, ValueFromPipelineByPropertyName = true)]
    [Alias("ChainPath")]
    public string CertificatePath { get; set; } = null!;

    /// <summary>The current key; found beside a '&lt;name&gt;-chain.pem' chain when left out.</summary>
    [Parameter(ParameterSetName = FileSet, ValueFromPipelineByPropertyName = true)]
    public string? KeyPath { get; set; }

    /// <summary>Store mode: the thumbprint of the certificate to renew.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ThumbprintSet, ValueFromPipelineByPropertyName = true)]
    public string Thumbprint { get; set; } = null!;

    /// <summary>Store mode: renew the newest valid certificate with this common name.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CommonNameSet)]
    [Alias("CN")]
    public string CommonName { get; set; } = null!;

    /// <summary>Store mode: the store of the current certificate; the renewed one goes there too.</summary>
    [Parameter(ParameterSetName = ThumbprintSet)]
    [Parameter(ParameterSetName = CommonNameSet)]
    [ArgumentCompleter(typeof(CertStoreLocationCompleter))]
    public string CertStoreLocation { get; set; } = Store.CertificateStorePath.CurrentUserMy;

    /// <summary>Windows, store mode: let the new CNG key be exported later.</summary>
    [Parameter(ParameterSetName = ThumbprintSet)]
    [Parameter(ParameterSetName = CommonNameSet)]
    public SwitchParameter Exportable { get; set; }

    /// <summary>Windows, store mode: the CNG key storage provider for the new key.</summary>
    [Parameter(ParameterSetName = ThumbprintSet)]
    [Parameter(ParameterSetName = CommonNameSet)]
    [ArgumentCompleter(typeof(KeyStorageProviderCompleter))]
    public string? KeyStorageProvider { get; set; }

    /// <summary>
    /// The folder the CSR is written to: the current certificate's folder by default, or in store mode the current
    /// location.
    /// </summary>
    [Parameter]
    [Alias("Destination")]
    public string? Path { get; set; }

    [Parameter(ParameterSetName = FileSet)]
    public SecureString? KeyPassword { get; set; }

    [Parameter]
    [ValidateSet("2048", "3072", "4096")]
    public int? KeySize { get; set; }

    /// <summary>Replace a pending renewal of the same certificate.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        if (TargetsStore(CertificatePath))
        {
            ProcessStoreCertificate();
            return;
        }

        RenewalPaths paths;
        string csrPath;
        int keySize = CertificateRenewal.ChooseKeySize(KeySize);
        char[] password = Reveal(KeyPassword);
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
            using X509Certificate2 current = CertificateRenewal.CheckRequest(paths, csrPath, Force, password,
                new DirectLog(this));
        }
        catch (StitchMtlsException ex)
        {
            Array.Clear(password);
            ThrowScriptTerminating(ex);
            return;
        }

        WarnOnSmallKey(keySize);
        string target = $"{paths.PendingKeyPath}, {csrPath} and {paths.RecordPath}";
        if (!ShouldProcess(target, $"Create a new RSA-{keySize} key and renewal CSR for '{paths.CertificatePath}'"))
        {
            Array.Clear(password);
            return;
        }

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
            ThrowScriptTerminating(ex);
        }
        finally
        {
            Array.Clear(password);
        }
    }

    /// <summary>Only a size the user chose below Stitch's 4096 is worth a warning; the default is 4096.</summary>
    private void WarnOnSmallKey(int keySize)
    {
        if (keySize < NewCsrRequest.DefaultKeySize)
        {
            WriteWarning($"Stitch's documentation uses RSA 4096-bit keys; the new key will be {keySize} bits, as " +
                "-KeySize asks. Confirm with Stitch that they accept it.");
        }
    }

    private void ProcessStoreCertificate()
    {
        X509Certificate2 current;
        Store.StoreRenewalOptions options;
        string csrPath;
        int keySize;
        try
        {
            (Store.CertificateStorePath location, string? thumbprint) =
                ResolveStoreTarget(CertificatePath, Thumbprint, CertStoreLocation);
            options = new Store.StoreRenewalOptions
            {
                Location = location.Store,
                CsrFolder = ToFileSystemPath(Path ?? "."),
                Exportable = Exportable,
                KeyStorageProvider = string.IsNullOrWhiteSpace(KeyStorageProvider) ? null : KeyStorageProvider,
            };
            current = Store.StoreRenewal.FindCurrent(options.Location, thumbprint,
                ParameterSetName == CommonNameSet ? CommonName : null, DateTime.UtcNow);
            csrPath = Store.StoreRenewal.CsrPathFor(current, options.CsrFolder);
            Store.StoreRenewal.CheckRequest(current, options, csrPath, Force, new DirectLog(this));
            keySize = CertificateRenewal.ChooseKeySize(KeySize);
        }
        catch (StitchMtlsException ex)
        {
            ThrowScriptTerminating(ex);
            return;
        }

        using (current)
        {
            WarnOnSmallKey(keySize);
            string target = $"{options.Location} (pending key) and {csrPath}";
            if (!ShouldProcess(target, $"Create a new RSA-{keySize} key and renewal CSR for {current.Thumbprint} " +
                $"('{current.Subject}')"))
            {
                return;
            }

            try
            {
                StitchRenewalRequest request = RunWithPipelineLog((log, token) =>
                        Task.FromResult(Store.StoreRenewal.Request(current, options, csrPath, keySize, Force,
                            DateTime.UtcNow, log, token)),
                    $"Generating an RSA-{keySize} renewal key");
                WriteObject(request);
            }
            catch (StitchMtlsException ex)
            {
                ThrowScriptTerminating(ex);
            }
        }
    }
}
