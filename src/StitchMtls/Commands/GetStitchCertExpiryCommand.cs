using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Commands;

/// <summary>Reports where certificates stand against Stitch's reminder calendar (60, 30, 14, 7 days).</summary>
[Cmdlet(VerbsCommon.Get, "StitchCertExpiry", DefaultParameterSetName = PathSet)]
[OutputType(typeof(StitchCertExpiry))]
public sealed class GetStitchCertExpiryCommand : StitchCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private const string CertificateSet = "Certificate";
    private const string ThumbprintSet = "Thumbprint";
    private const string CommonNameSet = "CommonName";

    private static readonly string[] s_certificateExtensions = { ".pem", ".crt", ".cer", ".der", ".cert" };

    private IReadOnlyList<int> _reminderDays = ExpiryCalculator.StitchReminderDays;

    [Parameter(Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true,
        ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[] Path { get; set; } = { "." };

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    public string[] LiteralPath { get; set; } = null!;

    [Parameter(Mandatory = true, ParameterSetName = CertificateSet, ValueFromPipeline = true)]
    public X509Certificate2[] Certificate { get; set; } = null!;

    /// <summary>The thumbprint of a certificate in -CertStoreLocation (no private key needed).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ThumbprintSet)]
    public string[] Thumbprint { get; set; } = null!;

    /// <summary>The common name of certificates in -CertStoreLocation: the newest with that name is reported.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CommonNameSet)]
    public string[] CommonName { get; set; } = null!;

    [Parameter(ParameterSetName = ThumbprintSet)]
    [Parameter(ParameterSetName = CommonNameSet)]
    [ArgumentCompleter(typeof(CertStoreLocationCompleter))]
    public string CertStoreLocation { get; set; } = Store.CertificateStorePath.CurrentUserMy;

    [Parameter]
    public int[]? ReminderDays { get; set; }

    protected override void BeginProcessing()
    {
        try
        {
            _reminderDays = ExpiryCalculator.NormalizeReminderDays(ReminderDays);
        }
        catch (StitchMtlsException ex)
        {
            ThrowFailure(ex);
        }
    }

    protected override void ProcessRecord()
    {
        DateTime now = DateTime.UtcNow;
        if (ParameterSetName == CertificateSet)
        {
            foreach (X509Certificate2 certificate in Certificate)
            {
                Emit(ExpiryCalculator.Evaluate(certificate, now, _reminderDays));
            }

            return;
        }

        if (ParameterSetName is ThumbprintSet or CommonNameSet)
        {
            ReadStore(now);
            return;
        }

        foreach (string file in ResolveFiles(out List<string> folderFiles))
        {
            ReadFile(file, now, quietIfNotCertificate: folderFiles.Contains(file));
        }
    }

    private IEnumerable<string> ResolveFiles(out List<string> fromFolders)
    {
        fromFolders = new List<string>();
        var files = new List<string>();
        IEnumerable<string> paths = ParameterSetName == LiteralPathSet
            ? LiteralPath.Select(ToFileSystemPath)
            : Path.SelectMany(ResolvePattern);
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                WriteVerbose($"Reading certificate files in '{path}'.");
                List<string> found;
                try
                {
                    found = Directory.EnumerateFiles(path)
                        .Where(file => s_certificateExtensions.Contains(System.IO.Path.GetExtension(file),
                            StringComparer.OrdinalIgnoreCase))
                        .OrderBy(file => file, StringComparer.Ordinal)
                        .ToList();
                }
                catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
                {
                    WriteError(new ErrorRecord(ex, "FolderUnreadable", ErrorCategory.PermissionDenied, path));
                    continue;
                }

                fromFolders.AddRange(found);
                files.AddRange(found);
            }
            else
            {
                files.Add(path);
            }
        }

        return files;
    }

    private IEnumerable<string> ResolvePattern(string pattern)
    {
        try
        {
            return GetResolvedProviderPathFromPSPath(pattern, out _);
        }
        catch (ItemNotFoundException ex)
        {
            WriteError(new ErrorRecord(ex, "CertificateFileNotFound", ErrorCategory.ObjectNotFound, pattern));
            return Array.Empty<string>();
        }
    }

    private void ReadFile(string file, DateTime now, bool quietIfNotCertificate)
    {
        IReadOnlyList<X509Certificate2> certificates;
        try
        {
            certificates = CertificateFile.Load(file);
        }
        catch (StitchMtlsException ex) when (quietIfNotCertificate && ex.ErrorId == "CertificateFileInvalid")
        {
            WriteWarning($"Skipped '{file}': it contains no certificate.");
            return;
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
            return;
        }
        catch (IOException ex)
        {
            WriteError(new ErrorRecord(ex, "CertificateFileUnreadable", ErrorCategory.ReadError, file));
            return;
        }

        Emit(ExpiryCalculator.Evaluate(ExpiryCalculator.SubjectCertificate(certificates), now, _reminderDays, file));
    }

    private void ReadStore(DateTime now)
    {
        Store.CertificateStorePath store;
        try
        {
            store = ParseStoreLocation(CertStoreLocation);
        }
        catch (StitchMtlsException ex)
        {
            ThrowFailure(ex);
            return;
        }

        foreach (string wanted in ParameterSetName == ThumbprintSet ? Thumbprint : CommonName)
        {
            try
            {
                X509Certificate2 certificate = ParameterSetName == ThumbprintSet
                    ? Store.StoreCertificates.FindByThumbprint(store, wanted)
                    : Store.StoreCertificates.FindNewestByCommonName(store, wanted);
                Emit(ExpiryCalculator.Evaluate(certificate, now, _reminderDays,
                    store.WithThumbprint(certificate.Thumbprint).ToString()));
            }
            catch (StitchMtlsException ex)
            {
                WriteFailure(ex);
            }
        }
    }

    private void Emit(StitchCertExpiry expiry)
    {
        if (expiry.NeedsAttention)
        {
            string when = expiry.Status switch
            {
                ExpiryCalculator.Expired => $"expired on {expiry.NotAfter:yyyy-MM-dd}",
                ExpiryCalculator.NotYetValid => $"is not valid until {expiry.NotBefore:yyyy-MM-dd}",
                _ => $"expires in {expiry.DaysRemaining} day(s), on {expiry.NotAfter:yyyy-MM-dd}",
            };
            WriteWarning($"The certificate '{expiry.Subject}' {when} ({expiry.Status}).");
        }

        WriteObject(expiry);
    }
}
