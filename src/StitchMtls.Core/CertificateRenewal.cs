using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls;

/// <summary>
/// Renews a file-based client certificate without an outage: a new key and a CSR with exactly the current
/// subject (<see cref="Request"/>); later, the signed chain is installed beside the current one, tested, and
/// only then switched in (<see cref="PrepareCompletion"/>); <see cref="Undo"/> switches back.
/// </summary>
/// <remarks>File names are described on <see cref="RenewalPaths"/>.</remarks>
public static class CertificateRenewal
{
    /// <summary>
    /// Reads the current certificate, checks that the current key is its key, and checks the destinations, before
    /// any slow work. <paramref name="keyPassword"/> is tried on an encrypted current key, since a renewal
    /// usually keeps one password.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// <c>CertificateFileNotFound</c>, <c>KeyFileNotFound</c>, <c>KeyCertificateMismatch</c>,
    /// <c>RenewalPending</c> or <c>FileExists</c>.
    /// </exception>
    public static X509Certificate2 CheckRequest(RenewalPaths paths, string csrPath, bool overwrite,
        ReadOnlySpan<char> keyPassword = default, IOperationLog? log = null)
    {
        X509Certificate2 current = LoadLeaf(paths.CertificatePath);
        if (!File.Exists(paths.KeyPath))
        {
            current.Dispose();
            throw new StitchMtlsException("KeyFileNotFound", FailureCategory.ObjectNotFound,
                $"Cannot find the current key '{paths.KeyPath}' because it does not exist. Give it with -KeyPath.",
                paths.KeyPath);
        }

        try
        {
            CheckPair(current, paths.CertificatePath, paths.KeyPath, keyPassword, log ?? NullOperationLog.Instance,
                "No file was written. Give the key the certificate is used with as -KeyPath (a " +
                "'<name>-chain.pem' chain finds '<name>.key' beside it without -KeyPath).");
        }
        catch
        {
            current.Dispose();
            throw;
        }

        if (!overwrite && (File.Exists(paths.RecordPath) || File.Exists(paths.PendingKeyPath)))
        {
            throw new StitchMtlsException("RenewalPending", FailureCategory.ResourceExists,
                $"A renewal of '{paths.CertificatePath}' is already pending ('{paths.RecordPath}'). Complete it " +
                "with Complete-StitchRenewal, or start again with -Force, which replaces the pending key: a CSR " +
                "already sent to Stitch for it can then no longer be used.", paths.RecordPath);
        }

        FileSet.EnsureWritable(new[] { paths.PendingKeyPath, csrPath, paths.RecordPath }, overwrite);
        return current;
    }

    /// <summary>
    /// The key size for the renewal: as asked, else RSA 4096 (what Stitch's documentation uses), whatever the
    /// current key's size; a renewal is the moment to move a 2048-bit key up.
    /// </summary>
    public static int ChooseKeySize(int? requested) => requested ?? NewCsrRequest.DefaultKeySize;

    /// <summary>
    /// Refuses a key that is not the certificate's: renewing with it would switch the renewed chain in beside a
    /// key the services do not use, and leave the pair they do use mismatched. An encrypted key that neither no
    /// password nor <paramref name="keyPassword"/> opens cannot be read, and is not checked (a warning says so).
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>KeyCertificateMismatch</c> or the key file errors.</exception>
    internal static void CheckPair(X509Certificate2 leaf, string certificatePath, string keyPath,
        ReadOnlySpan<char> keyPassword, IOperationLog log, string remedy)
    {
        AsymmetricAlgorithm? key = TryLoadKey(keyPath, keyPassword);
        if (key is null)
        {
            log.Warning($"Cannot check that '{keyPath}' is the key of '{certificatePath}': it is encrypted and " +
                "-KeyPassword does not open it.");
            return;
        }

        using (key)
        {
            if (!KeyIdentity.Matches(leaf, key))
            {
                throw new StitchMtlsException("KeyCertificateMismatch", FailureCategory.InvalidData,
                    $"The key '{keyPath}' does not belong to the certificate '{leaf.Subject}' " +
                    $"({leaf.Thumbprint}) in '{certificatePath}'. {remedy}", keyPath);
            }
        }
    }

    private static AsymmetricAlgorithm? TryLoadKey(string keyPath, ReadOnlySpan<char> keyPassword)
    {
        try
        {
            return PrivateKeyFile.Load(keyPath, ReadOnlySpan<char>.Empty);
        }
        catch (StitchMtlsException ex) when (ex.ErrorId == "KeyPasswordRequired" && !keyPassword.IsEmpty)
        {
            // Falls through to the password below.
        }
        catch (StitchMtlsException ex) when (ex.ErrorId == "KeyPasswordRequired")
        {
            return null;
        }

        try
        {
            return PrivateKeyFile.Load(keyPath, keyPassword);
        }
        catch (StitchMtlsException ex) when (ex.ErrorId is "KeyPasswordRequired" or "KeyPasswordIncorrect")
        {
            return null;
        }
    }

    /// <summary>
    /// Writes the pending key, the CSR with the current certificate's subject byte for byte, and the record.
    /// The current chain and key are not touched.
    /// </summary>
    public static StitchRenewalRequest Request(RenewalPaths paths, string csrPath, int keySize,
        ReadOnlySpan<char> keyPassword, bool overwrite, DateTime nowUtc, IOperationLog log,
        CancellationToken cancellationToken = default)
    {
        using X509Certificate2 current = CheckRequest(paths, csrPath, overwrite, keyPassword, log);
        string commonName = current.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        log.Verbose($"Renewing '{current.Subject}' ({current.Thumbprint}, expires " +
            $"{current.NotAfter.ToUniversalTime():yyyy-MM-dd}); the CSR repeats this subject exactly.");

        RenewalRecord? record = null;
        CertificateSigningRequest.PendingKey pending = CertificateSigningRequest.Generate(current.SubjectName,
            keySize, paths.PendingKeyPath, csrPath, keyPassword, overwrite, log, cancellationToken,
            publicKeySha256 =>
            {
                record = new RenewalRecord
                {
                    CreatedUtc = nowUtc,
                    CommonName = commonName,
                    Subject = current.Subject,
                    SubjectDer = Convert.ToBase64String(current.SubjectName.RawData),
                    CertificatePath = paths.CertificatePath,
                    KeyPath = paths.KeyPath,
                    CurrentThumbprint = current.Thumbprint,
                    PendingKeyPath = paths.PendingKeyPath,
                    CsrPath = csrPath,
                    PublicKeySha256 = publicKeySha256,
                    KeySize = keySize,
                };
                return new[] { (paths.RecordPath, record.ToJson()) };
            });

        return new StitchRenewalRequest
        {
            CommonName = commonName,
            Subject = current.Subject,
            CurrentThumbprint = current.Thumbprint,
            CurrentNotAfter = current.NotAfter.ToUniversalTime(),
            KeySize = keySize,
            CertificatePath = paths.CertificatePath,
            KeyPath = paths.KeyPath,
            PendingKeyPath = paths.PendingKeyPath,
            CsrPath = csrPath,
            RecordPath = paths.RecordPath,
            KeyProtection = keyPassword.IsEmpty ? KeyProtection.Plain : KeyProtection.Encrypted,
            PublicKeySha256 = pending.PublicKeySha256,
            CsrPem = pending.CsrPem,
        };
    }

    /// <summary>
    /// Reads the pending renewal and the signed chain and checks them: the chain must belong to the pending key
    /// and carry the current subject. Writes nothing.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// <c>RenewalNotFound</c>, <c>KeyCertificateMismatch</c>, <c>RenewalSubjectChanged</c>, the chain errors of
    /// Import-StitchChain, or the key file errors.
    /// </exception>
    public static RenewalCompletion PrepareCompletion(RenewalPaths paths, IReadOnlyList<string> signedChainPaths,
        ReadOnlySpan<char> keyPassword, DateTime nowUtc, IOperationLog log)
    {
        RenewalRecord record = RenewalRecord.Load(paths.RecordPath);
        using X509Certificate2 current = LoadLeaf(paths.CertificatePath);
        if (!string.Equals(current.Thumbprint, record.CurrentThumbprint, StringComparison.OrdinalIgnoreCase))
        {
            log.Warning($"The current certificate is no longer the one the renewal started from " +
                $"({record.CurrentThumbprint}); it is replaced all the same.");
        }

        CheckPair(current, paths.CertificatePath, paths.KeyPath, keyPassword, log,
            "Nothing was changed. Give the key the certificate is used with as -KeyPath; if the renewal was started " +
            "with the wrong key, start it again with New-StitchRenewalRequest -Force and the right one.");

        var request = new ChainImportRequest { CertificatePaths = signedChainPaths, KeyPath = paths.PendingKeyPath };
        ChainImport import = ChainImport.Prepare(request, keyPassword, nowUtc, log);
        try
        {
            byte[] expectedSubject = Convert.FromBase64String(record.SubjectDer);
            if (!import.Chain.Leaf.SubjectName.RawData.AsSpan().SequenceEqual(expectedSubject))
            {
                throw new StitchMtlsException("RenewalSubjectChanged", FailureCategory.InvalidData,
                    $"The renewed certificate's subject '{import.Chain.Leaf.Subject}' differs from the current " +
                    $"'{record.Subject}'. The CN identifies you at Stitch's gateway and must stay the same; ask " +
                    "Stitch to sign the CSR as sent. Nothing was changed.", import.Chain.Leaf.Subject);
            }

            return new RenewalCompletion(paths, import, current.Thumbprint, current.NotAfter.ToUniversalTime());
        }
        catch
        {
            import.Dispose();
            throw;
        }
    }

    /// <summary>Switches back to the previous certificate and key, which become current again.</summary>
    /// <remarks>The renewed pair becomes the previous one, so running it again re-applies the renewal.</remarks>
    /// <exception cref="StitchMtlsException">
    /// <c>PreviousCertificateNotFound</c>, <c>PreviousCertificateExpired</c> or <c>FileSwitchFailed</c>.
    /// </exception>
    public static StitchRenewal Undo(RenewalPaths paths, DateTime nowUtc, IOperationLog log)
    {
        foreach (string path in new[] { paths.PreviousCertificatePath, paths.PreviousKeyPath })
        {
            if (!File.Exists(path))
            {
                throw new StitchMtlsException("PreviousCertificateNotFound", FailureCategory.ObjectNotFound,
                    $"Cannot switch back: '{path}' does not exist. Only a renewal completed by " +
                    "Complete-StitchRenewal keeps the previous certificate and key.", path);
            }
        }

        using X509Certificate2 previous = LoadLeaf(paths.PreviousCertificatePath);
        using X509Certificate2 current = LoadLeaf(paths.CertificatePath);
        if (previous.NotAfter.ToUniversalTime() <= nowUtc)
        {
            throw new StitchMtlsException("PreviousCertificateExpired", FailureCategory.InvalidOperation,
                $"Cannot switch back: the previous certificate '{previous.Subject}' expired on " +
                $"{previous.NotAfter.ToUniversalTime():yyyy-MM-dd}. Nothing was changed.",
                paths.PreviousCertificatePath);
        }

        CheckPair(previous, paths.PreviousCertificatePath, paths.PreviousKeyPath, ReadOnlySpan<char>.Empty, log,
            "Switching back would leave a certificate and key that do not match. Nothing was changed.");
        byte[] previousKeyHash = FileHash(paths.PreviousKeyPath);

        log.Verbose($"Switching '{paths.CertificatePath}' back from {current.Thumbprint} to {previous.Thumbprint}.");
        string parkedChain = FileSwitch.Park(paths.CertificatePath, "undo");
        string parkedKey = FileSwitch.Park(paths.KeyPath, "undo");
        var renames = new FileSwitch();
        renames.Move(paths.CertificatePath, parkedChain);
        renames.Move(paths.KeyPath, parkedKey);
        renames.Move(paths.PreviousCertificatePath, paths.CertificatePath);
        renames.Move(paths.PreviousKeyPath, paths.KeyPath);
        renames.Move(parkedChain, paths.PreviousCertificatePath);
        renames.Move(parkedKey, paths.PreviousKeyPath);
        renames.Commit(() => VerifySwitched(paths, previous.Thumbprint, previousKeyHash));

        return Describe("Undone", paths, previous, current, nowUtc, testResult: null);
    }

    /// <summary>
    /// Reads back what a switch left as the current pair: the chain must be <paramref name="thumbprint"/>'s and
    /// the key file the one that was checked against it, or the caller's switch is rolled back.
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>FileSwitchFailed</c>.</exception>
    internal static void VerifySwitched(RenewalPaths paths, string thumbprint, byte[] keyHash)
    {
        string? problem = null;
        try
        {
            using X509Certificate2 now = LoadLeaf(paths.CertificatePath);
            if (!string.Equals(now.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase))
            {
                problem = $"'{paths.CertificatePath}' holds {now.Thumbprint}, not {thumbprint}";
            }
            else if (!CryptographicOperations.FixedTimeEquals(FileHash(paths.KeyPath), keyHash))
            {
                problem = $"'{paths.KeyPath}' is not the key of {thumbprint}";
            }
        }
        catch (Exception ex) when (ex is StitchMtlsException or IOException or UnauthorizedAccessException)
        {
            problem = ex.Message;
        }

        if (problem is not null)
        {
            throw new StitchMtlsException("FileSwitchFailed", FailureCategory.WriteError,
                $"After the switch the current certificate and key did not match ({problem}); the files were " +
                "switched back and nothing was changed. Check that no other process is changing the folder " +
                $"'{paths.Folder}', then run the command again.", paths.CertificatePath);
        }
    }

    internal static byte[] FileHash(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return SHA256.HashData(stream);
    }

    /// <summary>
    /// The failure for a renewed certificate that did not pass its test, with the category of the stage that
    /// failed: a gateway that is down is a connection problem, a rejected certificate a security one.
    /// </summary>
    internal static StitchMtlsException TestFailed(StitchMtlsTestResult result, Uri endpoint, string outcome)
    {
        return new StitchMtlsException("RenewalTestFailed", TestFailureCategory(result),
            $"The renewed certificate failed the test against {endpoint} at the {result.FailedStage ?? result.Stage} " +
            $"stage ({result.DiagnosisId}): {result.Diagnosis} {outcome}", endpoint.ToString());
    }

    /// <summary>The ErrorRecord category for a failed connection test, from the stage and diagnosis.</summary>
    public static FailureCategory TestFailureCategory(StitchMtlsTestResult result)
    {
        if (result.DiagnosisId.EndsWith("Timeout", StringComparison.Ordinal))
        {
            return FailureCategory.ConnectionError;
        }

        return (result.FailedStage ?? result.Stage) switch
        {
            ConnectionStage.PreFlight => FailureCategory.InvalidData,
            ConnectionStage.Resolve or ConnectionStage.Connect or ConnectionStage.Proxy =>
                FailureCategory.ConnectionError,
            ConnectionStage.Tls => FailureCategory.SecurityError,
            ConnectionStage.Http when result.DiagnosisId == "RbacDenied" => FailureCategory.PermissionDenied,
            ConnectionStage.Http => FailureCategory.InvalidResult,
            ConnectionStage.Token when result.DiagnosisId is "TokenInvalidClient" or "TokenUnauthorizedClient"
                or "TokenInvalidGrant" => FailureCategory.AuthenticationError,
            ConnectionStage.Token when result.DiagnosisId == "TokenAccessDenied" => FailureCategory.PermissionDenied,
            ConnectionStage.Token when result.DiagnosisId is "TokenServerError" or "TokenTemporarilyUnavailable" =>
                FailureCategory.ResourceUnavailable,
            ConnectionStage.Token => FailureCategory.InvalidResult,
            _ => FailureCategory.SecurityError,
        };
    }

    internal static StitchRenewal Describe(string action, RenewalPaths paths, X509Certificate2 now,
        X509Certificate2 before, DateTime nowUtc, StitchMtlsTestResult? testResult)
    {
        return new StitchRenewal
        {
            Action = action,
            CommonName = now.GetNameInfo(X509NameType.SimpleName, forIssuer: false),
            Subject = now.Subject,
            Thumbprint = now.Thumbprint,
            NotAfter = now.NotAfter.ToUniversalTime(),
            DaysRemaining = ExpiryCalculator.DaysRemaining(now.NotAfter.ToUniversalTime(), nowUtc),
            PreviousThumbprint = before.Thumbprint,
            PreviousNotAfter = before.NotAfter.ToUniversalTime(),
            CertificatePath = paths.CertificatePath,
            KeyPath = paths.KeyPath,
            PreviousCertificatePath = paths.PreviousCertificatePath,
            PreviousKeyPath = paths.PreviousKeyPath,
            TestResult = testResult,
        };
    }

    private static X509Certificate2 LoadLeaf(string path)
    {
        IReadOnlyList<X509Certificate2> certificates = CertificateFile.Load(path);
        X509Certificate2 leaf = ExpiryCalculator.SubjectCertificate(certificates);
        foreach (X509Certificate2 other in certificates.Where(c => !ReferenceEquals(c, leaf)))
        {
            other.Dispose();
        }

        return leaf;
    }
}

/// <summary>A checked renewed chain, ready to be installed, tested and switched in.</summary>
public sealed class RenewalCompletion : IDisposable
{
    private readonly ChainImport _import;
    private readonly string _previousThumbprint;
    private readonly DateTime _previousNotAfter;

    internal RenewalCompletion(RenewalPaths paths, ChainImport import, string previousThumbprint,
        DateTime previousNotAfter)
    {
        Paths = paths;
        _import = import;
        _previousThumbprint = previousThumbprint;
        _previousNotAfter = previousNotAfter;
    }

    public RenewalPaths Paths { get; }

    public X509Certificate2 Leaf => _import.Chain.Leaf;

    /// <summary>
    /// Writes the renewed chain beside the current one, runs the handshake that <paramref name="testOptions"/>
    /// describes (none when null), and only when it succeeds renames the renewed pair into place, keeping the
    /// current pair as <c>*.previous</c>. On any failure the current files are as they were.
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>RenewalTestFailed</c> or <c>FileSwitchFailed</c>.</exception>
    public async Task<StitchRenewal> CompleteAsync(Func<ClientCertificate, ConnectionTestOptions>? testOptions,
        DateTime nowUtc, IOperationLog log, CancellationToken cancellationToken)
    {
        var staged = new FileSet();
        staged.AddPublic(Paths.StagedChainPath,
            Encoding.ASCII.GetBytes(CertificateFile.ToPem(_import.Chain.InOrder)));
        log.Verbose($"Installing the renewed chain as '{Paths.StagedChainPath}', beside the current one.");
        staged.Commit(overwrite: true);

        StitchMtlsTestResult? result = null;
        try
        {
            if (testOptions is not null)
            {
                using ClientCertificate renewed = ClientCertificate.FromChain(_import.Chain, _import.Key);
                ConnectionTestOptions options = testOptions(renewed);
                log.Verbose($"Testing the renewed certificate against {options.Endpoint.MtlsUri}.");
                result = await ConnectionTest.RunAsync(options, log, cancellationToken).ConfigureAwait(false);
                if (!result.Success)
                {
                    throw CertificateRenewal.TestFailed(result, options.Endpoint.MtlsUri, "The current " +
                        "certificate is unchanged and still in use; the pending renewal is kept, so you can " +
                        "complete it again once this is resolved.");
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
        catch
        {
            File.Delete(Paths.StagedChainPath);
            throw;
        }

        log.Verbose($"Switching '{Paths.CertificatePath}' and '{Paths.KeyPath}' to the renewed pair; the current " +
            "pair is kept as *.previous.");
        byte[] pendingKeyHash = CertificateRenewal.FileHash(Paths.PendingKeyPath);
        var renames = new FileSwitch();
        renames.Discard(Paths.PreviousCertificatePath);
        renames.Discard(Paths.PreviousKeyPath);
        renames.Move(Paths.CertificatePath, Paths.PreviousCertificatePath);
        renames.Move(Paths.KeyPath, Paths.PreviousKeyPath);
        renames.Move(Paths.StagedChainPath, Paths.CertificatePath);
        renames.Move(Paths.PendingKeyPath, Paths.KeyPath);
        try
        {
            renames.Commit(() => CertificateRenewal.VerifySwitched(Paths, Leaf.Thumbprint, pendingKeyHash));
        }
        catch
        {
            File.Delete(Paths.StagedChainPath);
            throw;
        }

        File.Delete(Paths.RecordPath);
        return new StitchRenewal
        {
            Action = "Completed",
            CommonName = Leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: false),
            Subject = Leaf.Subject,
            Thumbprint = Leaf.Thumbprint,
            NotAfter = Leaf.NotAfter.ToUniversalTime(),
            DaysRemaining = ExpiryCalculator.DaysRemaining(Leaf.NotAfter.ToUniversalTime(), nowUtc),
            PreviousThumbprint = _previousThumbprint,
            PreviousNotAfter = _previousNotAfter,
            CertificatePath = Paths.CertificatePath,
            KeyPath = Paths.KeyPath,
            PreviousCertificatePath = Paths.PreviousCertificatePath,
            PreviousKeyPath = Paths.PreviousKeyPath,
            TestResult = result,
        };
    }

    public void Dispose() => _import.Dispose();
}
