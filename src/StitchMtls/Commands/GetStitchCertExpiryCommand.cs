using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Platform;

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

    private IReadOnlyList<int> _reminderDays = ExpiryCalculator.StitchReminderDays;
    private DateTime _now;
    private int _read;
    private int _needAttention;
    private bool _eventLogUsable;
    private bool _literalPathNamed;
    private ProgressRecord? _progress;

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

    /// <summary>Only certificates with at most this many days left (expired ones included).</summary>
    [Parameter]
    [ValidateRange(0, 3650)]
    public int? ExpiringWithinDays { get; set; }

    /// <summary>Read only the folders named, not their subfolders.</summary>
    [Parameter]
    public SwitchParameter NoRecurse { get; set; }

    /// <summary>End with a terminating error when any certificate reported needs attention.</summary>
    [Parameter]
    public SwitchParameter FailOnReminder { get; set; }

    /// <summary>Write one Application event log entry per certificate that needs attention (Windows).</summary>
    [Parameter]
    public SwitchParameter EventLog { get; set; }

    /// <summary>With -FailOnReminder or -EventLog, still write the objects.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private bool WritesObjects => PassThru || !(FailOnReminder || EventLog);

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

        _now = DateTime.UtcNow;
        _literalPathNamed = MyInvocation.BoundParameters.ContainsKey(nameof(LiteralPath));
        if (EventLog)
        {
            string? problem = ExpiryEventLog.EnsureSource();
            _eventLogUsable = problem is null;
            if (problem is not null)
            {
                WriteWarning($"-EventLog writes nothing: {problem}");
            }
        }
    }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == CertificateSet)
        {
            foreach (X509Certificate2 certificate in Certificate)
            {
                Emit(ExpiryCalculator.Evaluate(certificate, _now, _reminderDays));
            }

            return;
        }

        if (ParameterSetName is ThumbprintSet or CommonNameSet)
        {
            ReadStore();
            return;
        }

        // Get-ChildItem output binds to -LiteralPath through its PSPath: entries of a listing are read like the
        // files of a folder scan (warn and skip), while a file named on the command line is an error if it is not a
        // certificate.
        bool fromListing = ParameterSetName == LiteralPathSet && !_literalPathNamed;
        IEnumerable<string> paths = ParameterSetName == LiteralPathSet
            ? LiteralPath.Select(path =>
                Store.CertificateStorePath.LooksLikeStorePath(path) ? path : ToFileSystemPath(path))
            : Path.SelectMany(ResolvePattern);
        foreach (string path in paths)
        {
            if (Store.CertificateStorePath.LooksLikeStorePath(path))
            {
                ReadStore(path);
            }
            else if (Directory.Exists(path))
            {
                WriteVerbose($"Reading certificate files in '{path}'{(NoRecurse ? string.Empty : " and below")}.");
                foreach (string file in CertificateFileFinder.Enumerate(path, !NoRecurse, ReportUnreadableFolder))
                {
                    ReadFile(file, quietIfNotCertificate: true);
                    ReportProgress(path);
                }
            }
            else if (fromListing && !CertificateFileFinder.HasCertificateExtension(path))
            {
                WriteWarning($"Skipped '{path}': only {string.Join(", ", CertificateFileFinder.Extensions)} " +
                    "files are read from a listing, as in a folder scan; it was not opened.");
            }
            else
            {
                ReadFile(path, quietIfNotCertificate: fromListing);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (_progress is not null)
        {
            _progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(_progress);
        }

        string summary = $"Get-StitchCertExpiry read {_read} certificate(s); {_needAttention} need attention.";
        WriteVerbose(summary);
        if (_eventLogUsable)
        {
            ExpiryEventLog.WriteSummary(summary);
        }

        if (FailOnReminder && _needAttention > 0)
        {
            var exception = new StitchMtlsException("CertificateReminderReached", FailureCategory.LimitsExceeded,
                $"{_needAttention} certificate(s) have reached a reminder, expired or are not valid yet. Renew " +
                "them (New-StitchRenewalRequest); the warnings above name each one.", null);
            ThrowScriptTerminating(exception);
        }
    }

    /// <summary>A progress bar for folder scans, updated every 500 files: the total is not known in advance.</summary>
    private void ReportProgress(string folder)
    {
        if (_read % 500 != 0 || _read == 0)
        {
            return;
        }

        _progress ??= new ProgressRecord(1, "Reading certificates", "Starting") { PercentComplete = -1 };
        _progress.StatusDescription = $"{_read} certificates read in '{folder}'";
        WriteProgress(_progress);
    }

    private void ReportUnreadableFolder(string folder, Exception ex) =>
        WriteError(new ErrorRecord(ex, "FolderUnreadable", ErrorCategory.PermissionDenied, folder));

    private IEnumerable<string> ResolvePattern(string pattern)
    {
        if (Store.CertificateStorePath.LooksLikeStorePath(pattern))
        {
            return new[] { pattern };
        }

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

    private void ReadStore(string path)
    {
        IReadOnlyList<X509Certificate2> certificates;
        Store.CertificateStorePath location;
        try
        {
            location = Store.CertificateStorePath.Parse(path);
            WriteVerbose($"Reading the certificates in {location}.");
            certificates = Store.StoreCertificates.Read(location);
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
            return;
        }

        if (certificates.Count == 0)
        {
            WriteVerbose($"{location} holds no certificates (or was never created); nothing to report from it.");
        }

        IReadOnlyList<X509Certificate2> sameStore = location.Thumbprint is null
            ? certificates
            : ReadWholeStore(location.Store);
        try
        {
            foreach (X509Certificate2 certificate in certificates)
            {
                Emit(EvaluateInStore(certificate, sameStore, location.Store));
            }
        }
        finally
        {
            foreach (X509Certificate2 certificate in certificates.Concat(sameStore).Distinct())
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>A store certificate's expiry; <c>Superseded</c> when a renewed one with its key replaced it.</summary>
    private StitchCertExpiry EvaluateInStore(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> sameStore,
        Store.CertificateStorePath store)
    {
        string? successor = ExpiryCalculator.SuccessorOf(certificate, sameStore, _now)?.Thumbprint;
        if (successor is not null)
        {
            WriteVerbose($"{certificate.Thumbprint} ('{certificate.Subject}') is superseded by {successor}, which " +
                "has the same subject and its key and is valid: it needs no renewal. Remove it when no longer " +
                $"needed: Remove-StitchCertificate -Thumbprint {certificate.Thumbprint}.");
        }

        return ExpiryCalculator.Evaluate(certificate, _now, _reminderDays,
            store.WithThumbprint(certificate.Thumbprint).ToString(), successor);
    }

    /// <summary>Every certificate of the store, for finding successors; none when it cannot be read.</summary>
    private static IReadOnlyList<X509Certificate2> ReadWholeStore(Store.CertificateStorePath store)
    {
        try
        {
            return Store.StoreCertificates.Read(store);
        }
        catch (StitchMtlsException)
        {
            return Array.Empty<X509Certificate2>();
        }
    }

    private void ReadFile(string file, bool quietIfNotCertificate)
    {
        IReadOnlyList<X509Certificate2> certificates;
        try
        {
            certificates = CertificateFile.Load(file);
        }
        catch (StitchMtlsException ex) when (quietIfNotCertificate && ex.ErrorId == "CertificateFileInvalid")
        {
            WriteWarning($"Skipped: {ex.Message}");
            return;
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
            return;
        }

        // Disposed at once: native certificate handles left to the finalizer make a large scan's memory grow.
        try
        {
            X509Certificate2 subject = ExpiryCalculator.SubjectCertificate(certificates);
            Emit(ExpiryCalculator.Evaluate(subject, _now, _reminderDays, file));
        }
        finally
        {
            foreach (X509Certificate2 certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }

    private void ReadStore()
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
                using X509Certificate2 certificate = ParameterSetName == ThumbprintSet
                    ? Store.StoreCertificates.FindByThumbprint(store, wanted)
                    : FindInUseByCommonName(store, wanted);
                IReadOnlyList<X509Certificate2> sameStore = ReadWholeStore(store);
                try
                {
                    Emit(EvaluateInStore(certificate, sameStore, store));
                }
                finally
                {
                    foreach (X509Certificate2 other in sameStore)
                    {
                        other.Dispose();
                    }
                }
            }
            catch (StitchMtlsException ex)
            {
                WriteFailure(ex);
            }
        }
    }

    /// <summary>
    /// The certificate every other cmdlet's -CommonName connects with (the newest valid one with a key), so the
    /// report watches the certificate in use; when none is usable, the newest with the name, and a warning why.
    /// </summary>
    private X509Certificate2 FindInUseByCommonName(Store.CertificateStorePath store, string commonName)
    {
        try
        {
            return Store.StoreCertificates.FindByCommonName(store, commonName, _now, requireKey: true);
        }
        catch (StitchMtlsException ex) when (ex.ErrorId is "PrivateKeyMissing" or "CertificateExpired"
            or "CertificateNotYetValid")
        {
            X509Certificate2 newest = Store.StoreCertificates.FindNewestByCommonName(store, commonName);
            WriteWarning($"No certificate with the common name '{commonName}' in '{store}' can connect now " +
                $"({ex.ErrorId}: {ex.Message}) Reporting the newest one, {newest.Thumbprint}, instead.");
            return newest;
        }
    }

    private void Emit(StitchCertExpiry expiry)
    {
        _read++;
        if (ExpiringWithinDays is int within && expiry.DaysRemaining > within)
        {
            return;
        }

        if (expiry.NeedsAttention)
        {
            _needAttention++;
            string when = expiry.Status switch
            {
                ExpiryCalculator.Expired => $"expired on {expiry.NotAfter:yyyy-MM-dd}",
                ExpiryCalculator.NotYetValid => $"is not valid until {expiry.NotBefore:yyyy-MM-dd}",
                _ => $"expires in {expiry.DaysRemaining} day(s), on {expiry.NotAfter:yyyy-MM-dd}",
            };
            string where = expiry.Path is null ? string.Empty : $" in '{expiry.Path}'";
            string message = $"The certificate '{expiry.Subject}'{where} {when} ({expiry.Status}).";
            WriteWarning(message);
            if (_eventLogUsable)
            {
                ExpiryEventLog.WriteExpiry(expiry, $"{message} Thumbprint {expiry.Thumbprint}.");
            }
        }

        if (WritesObjects)
        {
            WriteObject(expiry);
        }
    }
}
