using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Security;

namespace StitchMtls.Commands;

/// <summary>Receives the signed chain from Stitch, checks it against the key and writes it in order.</summary>
[Cmdlet(VerbsData.Import, "StitchChain", DefaultParameterSetName = PathSet, SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchChain))]
public sealed class ImportStitchChainCommand : StitchCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    private readonly List<string> _certificatePaths = new();

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true,
        ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[] Path { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    public string[] LiteralPath { get; set; } = null!;

    [Parameter(Mandatory = true)]
    public string KeyPath { get; set; } = null!;

    [Parameter]
    public SecureString? KeyPassword { get; set; }

    /// <summary>The folder for the chain file; the key's folder by default.</summary>
    [Parameter]
    public string? Destination { get; set; }

    [Parameter]
    public string? PfxPath { get; set; }

    [Parameter]
    public SecureString? PfxPassword { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing()
    {
        if (PfxPath is not null && (PfxPassword is null || PfxPassword.Length == 0))
        {
            ThrowFailure(new StitchMtlsException("PfxPasswordRequired", FailureCategory.InvalidArgument,
                "A PKCS#12 file holds the private key and must be protected. Supply -PfxPassword.", PfxPath));
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == LiteralPathSet)
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
        var request = new ChainImportRequest
        {
            CertificatePaths = _certificatePaths,
            KeyPath = ToFileSystemPath(KeyPath),
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
}
