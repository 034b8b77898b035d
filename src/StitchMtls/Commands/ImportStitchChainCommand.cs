using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security;
using StitchMtls.Store;

namespace StitchMtls.Commands;

/// <summary>Receives the signed chain from Stitch, checks it against the key and writes it in order.</summary>
[Cmdlet(VerbsData.Import, "StitchChain", DefaultParameterSetName = PathSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchChain))]
public sealed class ImportStitchChainCommand : StitchCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private const string StorePathSet = "StorePath";
    private const string StoreLiteralPathSet = "StoreLiteralPath";

    private readonly List<string> _certificatePaths = new();

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true,
        ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = StorePathSet, ValueFromPipeline = true,
        ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[] Path { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, ParameterSetName = StoreLiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    public string[] LiteralPath { get; set; } = null!;

    /// <summary>The key file; with -CertStoreLocation optional (the pending store key is found by itself).</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Parameter(ParameterSetName = StorePathSet)]
    [Parameter(ParameterSetName = StoreLiteralPathSet)]
    public string? KeyPath { get; set; }

    [Parameter]
    public SecureString? KeyPassword { get; set; }

    /// <summary>The folder for the chain file; the key's folder by default.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public string? Destination { get; set; }

    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public string? PfxPath { get; set; }

    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public SecureString? PfxPassword { get; set; }

    /// <summary>
    /// Replaces an existing chain or PKCS#12 file; with -CertStoreLocation, adds a leaf the store already holds
    /// again instead of returning the existing entry.
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Put the leaf with its key, and the intermediates, into this store instead of writing files.</summary>
    [Parameter(Mandatory = true, ParameterSetName = StorePathSet)]
    [Parameter(Mandatory = true, ParameterSetName = StoreLiteralPathSet)]
    [ArgumentCompleter(typeof(CertStoreLocationCompleter))]
    public string CertStoreLocation { get; set; } = null!;

    private bool IntoStore => ParameterSetName is StorePathSet or StoreLiteralPathSet;

    protected override void BeginProcessing()
    {
        if (PfxPath is not null && (PfxPassword is null || PfxPassword.Length == 0))
        {
            ThrowFailure(new StitchMtlsException("PfxPasswordRequired", FailureCategory.InvalidArgument,
                PfxPassword is null
                    ? "A PKCS#12 file holds the private key and must be protected. Supply -PfxPassword."
                    : "-PfxPassword is empty. A PKCS#12 file holds the private key and must be protected: give a " +
                      "non-empty password.", PfxPath));
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName is LiteralPathSet or StoreLiteralPathSet)
        {
            _certificatePaths.AddRange(LiteralPath.Select(ToFileSystemPath));
            return;
        }

        foreach (string pattern in Path)
        {
            try
            {
                var resolved = GetResolvedProviderPathFromPSPath(pattern, out _);
                if (resolved.Count == 0)
                {
                    throw new ItemNotFoundException($"Cannot find a certificate file matching '{pattern}'.");
                }

                _certificatePaths.AddRange(resolved);
            }
            catch (ItemNotFoundException ex)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "CertificateFileNotFound", ErrorCategory.ObjectNotFound,
                    pattern));
            }
        }
    }

    // The chain may arrive as several files through the pipeline, so the work waits for all of them.
    protected override void EndProcessing()
    {
        if (IntoStore)
        {
            ImportIntoStore();
            return;
        }

        var request = new ChainImportRequest
        {
            CertificatePaths = _certificatePaths,
            KeyPath = ToFileSystemPath(KeyPath!),
            Destination = Destination is null ? null : ToFileSystemPath(Destination),
            PfxPath = PfxPath is null ? null : ToFileSystemPath(PfxPath),
        };

        char[] keyPassword = Reveal(KeyPassword);
        char[] pfxPassword = Reveal(PfxPassword);
        try
        {
            var log = new DirectLog(this);
            using ChainImport import = ChainImport.Prepare(request, keyPassword, DateTime.UtcNow, log);
            FileSet.EnsureWritable(import.Destinations, Force);
            string target = string.Join(" and ", import.Destinations);
            if (ShouldProcess(target, $"Write the chain of '{import.Chain.Leaf.Subject}'"))
            {
                WriteObject(import.Write(pfxPassword, Force, DateTime.UtcNow, log));
            }
        }
        catch (StitchMtlsException ex)
        {
            ThrowFailure(ex);
        }
        finally
        {
            Array.Clear(keyPassword);
            Array.Clear(pfxPassword);
        }
    }

    private void ImportIntoStore()
    {
        char[] keyPassword = Reveal(KeyPassword);
        try
        {
            var request = new StoreChainImportRequest
            {
                CertificatePaths = _certificatePaths,
                Location = ParseStoreLocation(CertStoreLocation),
                KeyPath = KeyPath is null ? null : ToFileSystemPath(KeyPath),
                Force = Force,
            };
            var log = new DirectLog(this);
            StitchChain? existing = StoreChainImport.FindAlreadyImported(request, DateTime.UtcNow, log);
            if (existing is not null)
            {
                WriteObject(existing);
                return;
            }

            using StoreChainImport import = StoreChainImport.Prepare(request, keyPassword, DateTime.UtcNow, log);
            int intermediates = import.Chain.Intermediates.Count;
            string action = $"Add '{import.Chain.Leaf.Subject}' with its private key from '{import.KeySource}'";
            if (intermediates > 0)
            {
                action += $", and {intermediates} intermediate(s) to {request.Location.IntermediateStore}";
            }

            if (ShouldProcess(request.Location.Store.ToString(), action))
            {
                WriteObject(import.Write(DateTime.UtcNow, log));
            }
        }
        catch (StitchMtlsException ex)
        {
            ThrowFailure(ex);
        }
        finally
        {
            Array.Clear(keyPassword);
        }
    }
}
