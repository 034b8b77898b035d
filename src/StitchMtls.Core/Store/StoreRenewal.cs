using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using StitchMtls.Platform;

namespace StitchMtls.Store;

/// <summary>What New-StitchRenewalRequest -Thumbprint or -CommonName renews, and how the new key is made.</summary>
public sealed class StoreRenewalOptions
{
    /// <summary>The store of the current certificate; the renewed one goes there too.</summary>
    public required CertificateStorePath Location { get; init; }

    /// <summary>The folder the CSR is written to.</summary>
    public required string CsrFolder { get; init; }

    /// <summary>Windows: the new CNG key may be exported later.</summary>
    public bool Exportable { get; init; }

    /// <summary>Windows: the CNG provider for the new key; the software provider when null.</summary>
    public string? KeyStorageProvider { get; init; }

    /// <summary>Where the pending key and the record wait; the location's default folder when null.</summary>
    public PendingKeyFolder? PendingKeys { get; init; }

    public PendingKeyFolder PendingKeyFolder => PendingKeys ?? PendingKeyFolder.For(Location.Location);
}

/// <summary>
/// Renews a client certificate held in a certificate store without an outage. <see cref="Request"/> makes a
/// new store key the way <c>New-StitchCsr -CertStoreLocation</c> does and a CSR with exactly the current
/// subject, and records the pending renewal (<see cref="StoreRenewalRecord"/>). <see cref="PrepareCompletion"/>
/// reads the signed chain; <see cref="StoreRenewalCompletion.CompleteAsync"/> adds it beside the current
/// certificate, tests it, and takes it out again when the test fails. The current certificate stays until it is
/// removed on purpose (<c>-RemovePrevious</c>): whoever picks the certificate by its common name gets the newest
/// valid one, so the switch-over is the moment the renewed certificate is in the store.
/// </summary>
public static class StoreRenewal
{
    /// <summary>The certificate to renew: by thumbprint, or the one the common name picks today.</summary>
    /// <exception cref="StitchMtlsException">
    /// <c>PlatformNotSupported</c>, <c>ElevationRequired</c>, <c>CertificateNotFound</c>, <c>PrivateKeyMissing</c>,
    /// <c>CertificateExpired</c>.
    /// </exception>
    public static X509Certificate2 FindCurrent(CertificateStorePath store, string? thumbprint, string? commonName,
        DateTime nowUtc)
    {
        StorePlatform.EnsureSupported(store, write: true);
        return thumbprint is not null
            ? StoreCertificates.FindByThumbprint(store, thumbprint)
            : StoreCertificates.FindByCommonName(store, commonName ?? string.Empty, nowUtc, requireKey: true);
    }

    /// <summary><c>&lt;common name&gt;.renewal.csr</c> in <paramref name="folder"/>.</summary>
    public static string CsrPathFor(X509Certificate2 current, string folder) =>
        Path.GetFullPath(Path.Combine(folder, StoreCertificates.CommonNameOf(current) + ".renewal.csr"));

    /// <summary>Checks the destinations and that no renewal of this certificate is pending, before slow work.</summary>
    /// <exception cref="StitchMtlsException"><c>RenewalPending</c>, <c>FileExists</c>.</exception>
    public static void CheckRequest(X509Certificate2 current, StoreRenewalOptions options, string csrPath,
        bool overwrite, IOperationLog log)
    {
        StoreRenewalRecord? pending = FindPendingFor(current, options.PendingKeyFolder, log);
        if (pending is not null && !overwrite)
        {
            throw new StitchMtlsException("RenewalPending", FailureCategory.ResourceExists,
                $"A renewal of {current.Thumbprint} ('{current.Subject}') is already pending (CSR " +
                $"'{pending.CsrPath}', started {pending.CreatedUtc:yyyy-MM-dd}). Complete it with " +
                "Complete-StitchRenewal, or start again with -Force, which deletes the pending key: a CSR already " +
                "sent to Stitch for it can then no longer be used.",
                StoreRenewalRecord.PathFor(options.PendingKeyFolder, pending.PublicKeySha256));
        }

        FileSet.EnsureWritable(new[] { csrPath }, overwrite);
    }

    /// <summary>
    /// Creates the new store key and the CSR with the current certificate's subject byte for byte, and records the
    /// pending renewal. The current certificate and its key are not touched.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// The errors of <see cref="CheckRequest"/> and of <see cref="CertificateSigningRequest.CreateInStore"/>.
    /// </exception>
    public static StitchRenewalRequest Request(X509Certificate2 current, StoreRenewalOptions options,
        string csrPath, int keySize, bool overwrite, DateTime nowUtc, IOperationLog log,
        CancellationToken cancellationToken = default)
    {
        PendingKeyFolder pending = options.PendingKeyFolder;
        CheckRequest(current, options, csrPath, overwrite, log);
        StoreRenewalRecord? replaced = FindPendingFor(current, pending, log);
        log.Verbose($"Renewing '{current.Subject}' ({current.Thumbprint}, expires " +
            $"{current.NotAfter.ToUniversalTime():yyyy-MM-dd}) in '{options.Location.Store}'; the CSR repeats this " +
            "subject exactly.");

        var csrRequest = new NewCsrRequest(DescribeSubject(current), keySize, Path.GetDirectoryName(csrPath)!,
            Path.GetFileNameWithoutExtension(csrPath))
        {
            ExactSubject = current.SubjectName,
        };
        var keyOptions = new StoreKeyOptions
        {
            Location = options.Location.Store,
            Exportable = options.Exportable,
            KeyStorageProvider = options.KeyStorageProvider,
            PendingKeys = pending,
        };
        StitchCsr csr = CertificateSigningRequest.CreateInStore(csrRequest, keyOptions, overwrite, log,
            cancellationToken);

        var record = new StoreRenewalRecord
        {
            CreatedUtc = nowUtc,
            CommonName = StoreCertificates.CommonNameOf(current),
            Subject = current.Subject,
            SubjectDer = Convert.ToBase64String(current.SubjectName.RawData),
            CertStoreLocation = options.Location.Store.ToString(),
            CurrentThumbprint = current.Thumbprint,
            CurrentNotAfter = current.NotAfter.ToUniversalTime(),
            CsrPath = csr.CsrPath,
            PublicKeySha256 = csr.PublicKeySha256,
            KeySize = keySize,
        };
        string recordPath = StoreRenewalRecord.PathFor(pending, csr.PublicKeySha256);
        try
        {
            log.Verbose($"Recording the pending renewal in '{recordPath}'.");
            var files = new FileSet();
            files.AddPrivate(recordPath, record.ToJson());
            files.Commit(overwrite: true);
        }
        catch
        {
            DiscardPending(pending, csr.PublicKeySha256);
            throw;
        }

        if (replaced is not null)
        {
            log.Verbose($"-Force: deleting the earlier pending renewal key {replaced.PublicKeySha256} and its record.");
            DiscardPending(pending, replaced.PublicKeySha256);
        }

        return new StitchRenewalRequest
        {
            CommonName = record.CommonName,
            Subject = current.Subject,
            CurrentThumbprint = current.Thumbprint,
            CurrentNotAfter = record.CurrentNotAfter,
            KeySize = keySize,
            CertificatePath = options.Location.Store.WithThumbprint(current.Thumbprint).ToString(),
            CertStoreLocation = record.CertStoreLocation,
            PendingKeyPath = pending.Find(csr.PublicKeySha256) ?? pending.Path,
            CsrPath = csr.CsrPath,
            RecordPath = recordPath,
            KeyProtection = csr.KeyProtection,
            PublicKeySha256 = csr.PublicKeySha256,
            CsrPem = csr.CsrPem,
        };
    }

    /// <summary>Refuses to remove the previous certificate on the word of an untested renewal.</summary>
    /// <exception cref="StitchMtlsException"><c>RemovePreviousNeedsTest</c>.</exception>
    public static void CheckCompletionOptions(bool skipTest, bool removePrevious)
    {
        if (skipTest && removePrevious)
        {
            throw new StitchMtlsException("RemovePreviousNeedsTest", FailureCategory.InvalidArgument,
                "-RemovePrevious removes the previous certificate and key only after the renewed one passed its " +
                "test, so it cannot be combined with -SkipTest. Complete with -SkipTest first; remove the previous " +
                "certificate later with Remove-StitchCertificate -Thumbprint <previous thumbprint>.", null);
        }
    }

    /// <summary>
    /// Reads the signed chain and the pending renewal it belongs to (found by the leaf's public key) and checks
    /// them: the chain must be valid, belong to the pending key and carry the current subject. Writes nothing.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// <c>RenewalNotFound</c>, <c>KeyCertificateMismatch</c>, <c>RenewalSubjectChanged</c>, and the chain errors of
    /// Import-StitchChain.
    /// </exception>
    public static StoreRenewalCompletion PrepareCompletion(CertificateStorePath store,
        IReadOnlyList<string> signedChainPaths, PendingKeyFolder? pendingKeys, DateTime nowUtc, IOperationLog log)
    {
        StorePlatform.EnsureSupported(store.Store, write: true);
        PendingKeyFolder pending = pendingKeys ?? PendingKeyFolder.For(store.Location);
        StoreRenewalRecord record;
        try
        {
            record = FindRecordForChain(signedChainPaths, pending, log);
        }
        catch (StitchMtlsException ex) when (ex.ErrorId is "RenewalNotFound" or "KeyCertificateMismatch")
        {
            throw AlreadyCompleted(store.Store, signedChainPaths, pending, log) ?? ex;
        }

        if (!string.Equals(record.CertStoreLocation, store.Store.ToString(), StringComparison.OrdinalIgnoreCase))
        {
            throw new StitchMtlsException("RenewalStoreDiffers", FailureCategory.InvalidArgument,
                $"The pending renewal of '{record.Subject}' is for '{record.CertStoreLocation}', not " +
                $"'{store.Store}'. Give -CertStoreLocation {record.CertStoreLocation}.", store.ToString());
        }

        var request = new StoreChainImportRequest
        {
            CertificatePaths = signedChainPaths,
            Location = store.Store,
            PendingKeys = pending,
            KeepPendingKey = true,
        };
        StoreChainImport import = StoreChainImport.Prepare(request, ReadOnlySpan<char>.Empty, nowUtc, log);
        try
        {
            X509Certificate2 leaf = import.Chain.Leaf;
            string leafKey = KeyIdentity.PublicKeySha256(KeyIdentity.SubjectPublicKeyInfo(leaf));
            if (!string.Equals(leafKey, record.PublicKeySha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new StitchMtlsException("KeyCertificateMismatch", FailureCategory.InvalidData,
                    $"The signed certificate '{leaf.Subject}' does not belong to the renewal key " +
                    $"{record.PublicKeySha256}. Nothing was changed.", leaf.Thumbprint);
            }

            byte[] expectedSubject = Convert.FromBase64String(record.SubjectDer);
            if (!leaf.SubjectName.RawData.AsSpan().SequenceEqual(expectedSubject))
            {
                throw new StitchMtlsException("RenewalSubjectChanged", FailureCategory.InvalidData,
                    $"The renewed certificate's subject '{leaf.Subject}' differs from the current " +
                    $"'{record.Subject}'. The CN identifies you at Stitch's gateway and must stay the same; ask " +
                    "Stitch to sign the CSR as sent. Nothing was changed.", leaf.Subject);
            }

            X509Certificate2? previous = null;
            try
            {
                previous = StoreCertificates.FindByThumbprint(store.Store, record.CurrentThumbprint);
            }
            catch (StitchMtlsException ex) when (ex.ErrorId == "CertificateNotFound")
            {
                log.Warning($"The certificate the renewal started from ({record.CurrentThumbprint}) is no longer " +
                    $"in '{store.Store}'; the renewed one is added all the same.");
            }

            return new StoreRenewalCompletion(store.Store, import, record, pending, previous);
        }
        catch
        {
            import.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Finds the renewed certificate and the certificate its renewal replaced, as Complete-StitchRenewal recorded
    /// it (<see cref="CompletedStoreRenewal"/>); that one must still be in the store, valid and with its key. Any
    /// other certificate with the same name is never switched to: it may be one already given up or revoked.
    /// Changes nothing.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// <c>CertificateNotFound</c>, <c>PrivateKeyMissing</c>, <c>CertificateExpired</c>,
    /// <c>PreviousCertificateNotFound</c>.
    /// </exception>
    public static StoreRenewalUndo PrepareUndo(CertificateStorePath store, string? thumbprint, string? commonName,
        DateTime nowUtc, PendingKeyFolder? pendingKeys = null)
    {
        PendingKeyFolder pending = pendingKeys ?? PendingKeyFolder.For(store.Location);
        X509Certificate2 renewed = FindCurrent(store.Store, thumbprint, commonName, nowUtc);
        CompletedStoreRenewal? completed = CompletedStoreRenewal.TryLoad(pending, renewed.Thumbprint);
        string? why = null;
        X509Certificate2? previous = null;
        if (completed is null || !string.Equals(completed.CertStoreLocation, store.Store.ToString(),
            StringComparison.OrdinalIgnoreCase))
        {
            why = $"no completed renewal that added {renewed.Thumbprint} is recorded, so there is nothing to undo " +
                "(it was undone already, renewed again since, completed with -RemovePrevious, or not added by " +
                "Complete-StitchRenewal)";
        }
        else
        {
            using X509Store opened = StorePlatform.Open(store.Store, write: false);
            previous = opened.Certificates.FirstOrDefault(candidate => string.Equals(candidate.Thumbprint,
                completed.PreviousThumbprint, StringComparison.OrdinalIgnoreCase));
            why = previous is null
                ? $"the certificate it replaced, {completed.PreviousThumbprint}, is no longer in '{store.Store}' " +
                    "(Complete-StitchRenewal -RemovePrevious and Remove-StitchCertificate remove it)"
                : !previous.HasPrivateKey
                    ? $"the certificate it replaced, {completed.PreviousThumbprint}, has no private key any more"
                    : nowUtc < previous.NotBefore.ToUniversalTime() || nowUtc >= previous.NotAfter.ToUniversalTime()
                        ? $"the certificate it replaced, {completed.PreviousThumbprint}, is not valid now (it " +
                            $"expires on {previous.NotAfter.ToUniversalTime():yyyy-MM-dd})"
                        : null;
        }

        if (why is not null)
        {
            var failure = new StitchMtlsException("PreviousCertificateNotFound", FailureCategory.ObjectNotFound,
                $"Cannot switch back from {renewed.Thumbprint} ('{renewed.Subject}'): {why}. Nothing was changed; " +
                "the renewed certificate stays in use.", store.Store.WithThumbprint(renewed.Thumbprint).ToString());
            renewed.Dispose();
            previous?.Dispose();
            throw failure;
        }

        return new StoreRenewalUndo(store.Store, renewed, previous!, pending);
    }

    /// <summary>Removes a certificate from the store together with its private key.</summary>
    /// <exception cref="StitchMtlsException"><c>CertStoreUnavailable</c>, <c>PrivateKeyAccessDenied</c>.</exception>
    internal static void RemoveWithKey(CertificateStorePath store, X509Certificate2 certificate, IOperationLog log)
    {
        log.Verbose($"Removing {certificate.Thumbprint} ('{certificate.Subject}') and its private key from " +
            $"'{store}'.");
        using X509Store opened = StorePlatform.Open(store, write: true);
        StoreKeyRemoval.DeletePersistedKey(certificate, store);
        try
        {
            opened.Remove(certificate);
        }
        catch (CryptographicException ex)
        {
            throw new StitchMtlsException("CertStoreUnavailable", FailureCategory.PermissionDenied,
                $"Cannot remove {certificate.Thumbprint} from '{store}': {ex.Message}", store.ToString(), ex);
        }
    }

    internal static StitchRenewal Describe(string action, CertificateStorePath store, X509Certificate2 now,
        string previousThumbprint, DateTime previousNotAfter, bool previousRemoved, DateTime nowUtc,
        StitchMtlsTestResult? testResult)
    {
        return new StitchRenewal
        {
            Action = action,
            CommonName = StoreCertificates.CommonNameOf(now),
            Subject = now.Subject,
            Thumbprint = now.Thumbprint,
            NotAfter = now.NotAfter.ToUniversalTime(),
            DaysRemaining = ExpiryCalculator.DaysRemaining(now.NotAfter.ToUniversalTime(), nowUtc),
            PreviousThumbprint = previousThumbprint,
            PreviousNotAfter = previousNotAfter,
            CertificatePath = store.WithThumbprint(now.Thumbprint).ToString(),
            PreviousCertificatePath = store.WithThumbprint(previousThumbprint).ToString(),
            PreviousRemoved = previousRemoved,
            TestResult = testResult,
        };
    }

    /// <summary>Deletes a pending key (on Windows its CNG key, too), its entry and its renewal record.</summary>
    private static void DiscardPending(PendingKeyFolder pending, string publicKeySha256)
    {
        using (AsymmetricAlgorithm? key = pending.TryOpen(publicKeySha256))
        {
            if (key is not null)
            {
                StoreKeyRemoval.DeletePendingKey(key);
            }
        }

        pending.Remove(publicKeySha256);
        File.Delete(StoreRenewalRecord.PathFor(pending, publicKeySha256));
    }

    private static StoreRenewalRecord? FindPendingFor(X509Certificate2 current, PendingKeyFolder pending,
        IOperationLog log) =>
        StoreRenewalRecord.LoadAll(pending, log).FirstOrDefault(record =>
            string.Equals(record.CurrentThumbprint, current.Thumbprint, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// <c>RenewalAlreadyCompleted</c> when the signed chain's certificate is in the store with its key already
    /// (the renewal was completed before); otherwise null.
    /// </summary>
    private static StitchMtlsException? AlreadyCompleted(CertificateStorePath store,
        IReadOnlyList<string> signedChainPaths, PendingKeyFolder pending, IOperationLog log)
    {
        HashSet<string> leaves;
        List<X509Certificate2> supplied = ChainImport.ReadCertificates(signedChainPaths, log);
        try
        {
            leaves = supplied.Where(c => !ClientChain.IsCertificateAuthority(c)).Select(c => c.Thumbprint)
                .ToHashSet(StringComparer.OrdinalIgnoreCase);
        }
        finally
        {
            foreach (X509Certificate2 certificate in supplied)
            {
                certificate.Dispose();
            }
        }

        X509Certificate2? installed;
        try
        {
            using X509Store opened = StorePlatform.Open(store, write: false);
            installed = opened.Certificates.FirstOrDefault(c => leaves.Contains(c.Thumbprint) && c.HasPrivateKey);
        }
        catch (StitchMtlsException)
        {
            return null;
        }

        if (installed is null)
        {
            return null;
        }

        CompletedStoreRenewal? completed = CompletedStoreRenewal.TryLoad(pending, installed.Thumbprint);
        string when = completed is null
            ? string.Empty
            : $" on {completed.CompletedUtc:yyyy-MM-dd}, replacing {completed.PreviousThumbprint}";
        var failure = new StitchMtlsException("RenewalAlreadyCompleted", FailureCategory.ResourceExists,
            $"This renewal was already completed{when}: '{installed.Subject}' ({installed.Thumbprint}) is in " +
            $"'{store}' with its key, and -CommonName picks it while it is the newest valid one. Nothing was changed.",
            store.WithThumbprint(installed.Thumbprint).ToString());
        installed.Dispose();
        return failure;
    }

    private static StoreRenewalRecord FindRecordForChain(IReadOnlyList<string> signedChainPaths,
        PendingKeyFolder pending, IOperationLog log)
    {
        List<X509Certificate2> supplied = ChainImport.ReadCertificates(signedChainPaths, log);
        try
        {
            foreach (X509Certificate2 certificate in supplied.Where(c => !ClientChain.IsCertificateAuthority(c)))
            {
                string id = KeyIdentity.PublicKeySha256(KeyIdentity.SubjectPublicKeyInfo(certificate));
                StoreRenewalRecord? record = StoreRenewalRecord.TryLoad(pending, id);
                if (record is not null)
                {
                    log.Verbose($"The signed certificate belongs to the pending renewal of '{record.Subject}' " +
                        $"({record.CurrentThumbprint}), started {record.CreatedUtc:yyyy-MM-dd}.");
                    return record;
                }
            }
        }
        finally
        {
            foreach (X509Certificate2 certificate in supplied)
            {
                certificate.Dispose();
            }
        }

        IReadOnlyList<StoreRenewalRecord> records = StoreRenewalRecord.LoadAll(pending, log);
        if (records.Count == 0)
        {
            throw new StitchMtlsException("RenewalNotFound", FailureCategory.ObjectNotFound,
                $"There is no pending store renewal in '{pending.Path}'. Start one with New-StitchRenewalRequest " +
                "-Thumbprint <current> (or -CommonName), as the user who will complete it.", pending.Path);
        }

        string waiting = string.Join("; ", records.Select(record =>
            $"'{record.Subject}' from {record.CurrentThumbprint}, CSR '{record.CsrPath}'"));
        throw new StitchMtlsException("KeyCertificateMismatch", FailureCategory.InvalidData,
            $"The signed chain does not belong to the key of any pending renewal ({waiting}). Stitch may have " +
            "signed another CSR: send them the renewal CSR. Nothing was changed.", pending.Path);
    }

    private static CsrSubject DescribeSubject(X509Certificate2 current)
    {
        // Only names the request in messages: the CSR carries the current subject's own bytes (ExactSubject).
        string commonName = StoreCertificates.CommonNameOf(current);
        string? organization = SingleValue(current.SubjectName, "2.5.4.10");
        string? country = SingleValue(current.SubjectName, "2.5.4.6");
        try
        {
            return new CsrSubject(commonName, organization ?? commonName, country ?? "ZA");
        }
        catch (StitchMtlsException ex) when (ex.ErrorId is "OrganizationInvalid" or "CountryInvalid")
        {
            return new CsrSubject(commonName, commonName, "ZA");
        }
    }

    private static string? SingleValue(X500DistinguishedName name, string oid) =>
        name.EnumerateRelativeDistinguishedNames()
            .Where(rdn => !rdn.HasMultipleElements && rdn.GetSingleElementType().Value == oid)
            .Select(rdn => rdn.GetSingleElementValue())
            .FirstOrDefault();
}

/// <summary>A checked renewed chain, ready to be added beside the current certificate and tested.</summary>
public sealed class StoreRenewalCompletion : IDisposable
{
    private readonly StoreChainImport _import;
    private readonly StoreRenewalRecord _record;
    private readonly PendingKeyFolder _pending;
    private readonly X509Certificate2? _previous;

    internal StoreRenewalCompletion(CertificateStorePath store, StoreChainImport import, StoreRenewalRecord record,
        PendingKeyFolder pending, X509Certificate2? previous)
    {
        Store = store;
        _import = import;
        _record = record;
        _pending = pending;
        _previous = previous;
    }

    public CertificateStorePath Store { get; }

    public X509Certificate2 Leaf => _import.Chain.Leaf;

    public string PreviousThumbprint => _record.CurrentThumbprint;

    /// <summary>Whether the certificate the renewal started from is still in the store.</summary>
    public bool PreviousPresent => _previous is not null;

    /// <summary>
    /// Adds the renewed certificate with its key beside the current one (and its intermediates), runs the handshake
    /// <paramref name="testOptions"/> describes with the certificate as the store now holds it, and on any failure
    /// removes what was added, keeping the pending key so the renewal can be completed again. Only after a passed
    /// test are the pending key entry and the record removed, and with <paramref name="removePrevious"/> the
    /// previous certificate and its key.
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>RenewalTestFailed</c>, store errors.</exception>
    public async Task<StitchRenewal> CompleteAsync(Func<ClientCertificate, ConnectionTestOptions>? testOptions,
        bool removePrevious, DateTime nowUtc, IOperationLog log, CancellationToken cancellationToken)
    {
        StoreRenewal.CheckCompletionOptions(testOptions is null, removePrevious);
        string thumbprint = Leaf.Thumbprint;
        bool leafWasThere = Thumbprints(Store).Contains(thumbprint);
        HashSet<string> intermediatesThere = Thumbprints(Store.IntermediateStore);

        StitchMtlsTestResult? result = null;
        try
        {
            _import.Write(nowUtc, log);
            if (testOptions is not null)
            {
                X509Certificate2 installed = StoreCertificates.FindByThumbprint(Store, thumbprint);
                using ClientCertificate renewed = ClientCertificate.FromCertificate(installed);
                ConnectionTestOptions options = testOptions(renewed);
                log.Verbose($"Testing the renewed certificate {thumbprint}, as the store holds it, against " +
                    $"{options.Endpoint.MtlsUri}.");
                result = await ConnectionTest.RunAsync(options, log, cancellationToken).ConfigureAwait(false);
                if (!result.Success)
                {
                    throw CertificateRenewal.TestFailed(result, options.Endpoint.MtlsUri, $"It was taken out " +
                        $"of '{Store}' again: the current certificate is unchanged and still in use. The pending " +
                        "renewal is kept, so you can complete it again once this is resolved.");
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
        catch
        {
            TakeBack(thumbprint, leafWasThere, intermediatesThere, log);
            throw;
        }

        log.Verbose($"The renewed certificate {thumbprint} is in '{Store}'; removing the pending key entry and the " +
            "renewal record.");
        _pending.Remove(_record.PublicKeySha256);
        File.Delete(StoreRenewalRecord.PathFor(_pending, _record.PublicKeySha256));

        bool removed = false;
        if (removePrevious && _previous is not null)
        {
            StoreRenewal.RemoveWithKey(Store, _previous, log);
            removed = true;
        }

        RecordCompletion(removed, nowUtc, log);

        return StoreRenewal.Describe("Completed", Store, Leaf, _record.CurrentThumbprint,
            _previous?.NotAfter.ToUniversalTime() ?? _record.CurrentNotAfter, removed, nowUtc, result);
    }

    /// <summary>
    /// Records what Undo-StitchRenewal may take back: this renewal, while the certificate it replaced is kept. The
    /// record of the renewal that added the previous certificate goes, so only the newest renewal can be undone.
    /// </summary>
    private void RecordCompletion(bool previousRemoved, DateTime nowUtc, IOperationLog log)
    {
        string path = CompletedStoreRenewal.PathFor(_pending, Leaf.Thumbprint);
        try
        {
            CompletedStoreRenewal.Delete(_pending, _record.CurrentThumbprint);
            if (previousRemoved || _previous is null)
            {
                CompletedStoreRenewal.Delete(_pending, Leaf.Thumbprint);
                return;
            }

            log.Verbose($"Recording in '{path}' that {Leaf.Thumbprint} replaced {_previous.Thumbprint}, for " +
                "Undo-StitchRenewal.");
            new CompletedStoreRenewal
            {
                CompletedUtc = nowUtc,
                Subject = Leaf.Subject,
                CertStoreLocation = Store.ToString(),
                RenewedThumbprint = Leaf.Thumbprint,
                PreviousThumbprint = _previous.Thumbprint,
            }.Save(_pending);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or StitchMtlsException)
        {
            // The renewal itself is done and in use; only the way back is lost, and undo then refuses.
            log.Warning($"The renewal is complete, but its record '{path}' could not be updated ({ex.Message}), " +
                "so Undo-StitchRenewal cannot switch back from it.");
        }
    }

    /// <summary>
    /// Removes the renewed certificate and the intermediates this completion added. The key stays: the pending
    /// entry still holds it (a file) or names it (a CNG key, which removing a store entry does not delete).
    /// </summary>
    private void TakeBack(string thumbprint, bool leafWasThere, HashSet<string> intermediatesThere,
        IOperationLog log)
    {
        log.Verbose($"Taking the renewed certificate {thumbprint} out of '{Store}' again.");
        if (!leafWasThere)
        {
            RemoveEntries(Store, new[] { thumbprint });
        }

        string[] added = _import.Chain.Intermediates
            .Select(intermediate => intermediate.Thumbprint)
            .Where(intermediate => !intermediatesThere.Contains(intermediate))
            .ToArray();
        RemoveEntries(Store.IntermediateStore, added);
    }

    private static void RemoveEntries(CertificateStorePath store, IReadOnlyCollection<string> thumbprints)
    {
        if (thumbprints.Count == 0)
        {
            return;
        }

        using X509Store opened = StorePlatform.Open(store, write: true);
        foreach (X509Certificate2 certificate in opened.Certificates
            .Where(c => thumbprints.Contains(c.Thumbprint, StringComparer.OrdinalIgnoreCase)))
        {
            opened.Remove(certificate);
        }
    }

    private static HashSet<string> Thumbprints(CertificateStorePath store)
    {
        try
        {
            using X509Store opened = StorePlatform.Open(store, write: false);
            return opened.Certificates.Select(c => c.Thumbprint).ToHashSet(StringComparer.OrdinalIgnoreCase);
        }
        catch (StitchMtlsException ex) when (ex.ErrorId == "CertStoreNotFound")
        {
            return new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        }
    }

    public void Dispose()
    {
        _import.Dispose();
        _previous?.Dispose();
    }
}

/// <summary>A switch back from a renewed store certificate to the previous one, checked and ready.</summary>
public sealed class StoreRenewalUndo : IDisposable
{
    private readonly PendingKeyFolder _pending;

    internal StoreRenewalUndo(CertificateStorePath store, X509Certificate2 renewed, X509Certificate2 previous,
        PendingKeyFolder pending)
    {
        Store = store;
        Renewed = renewed;
        Previous = previous;
        _pending = pending;
    }

    public CertificateStorePath Store { get; }

    /// <summary>The certificate to remove, with its key.</summary>
    public X509Certificate2 Renewed { get; }

    /// <summary>The certificate that is in use again afterwards.</summary>
    public X509Certificate2 Previous { get; }

    /// <summary>
    /// Removes the renewed certificate and its key, and the record of its renewal, so that a second undo has
    /// nothing to undo; the previous one, still in the store, is then the certificate the common name picks. The
    /// renewed certificate cannot be added back: its key is gone.
    /// </summary>
    public StitchRenewal Apply(DateTime nowUtc, IOperationLog log)
    {
        StoreRenewal.RemoveWithKey(Store, Renewed, log);
        try
        {
            CompletedStoreRenewal.Delete(_pending, Renewed.Thumbprint);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Harmless left behind: it names a certificate that is no longer in the store.
            log.Warning($"The record of the undone renewal could not be deleted ({ex.Message}).");
        }
        return StoreRenewal.Describe("Undone", Store, Previous, Renewed.Thumbprint, Renewed.NotAfter.ToUniversalTime(),
            previousRemoved: true, nowUtc, testResult: null);
    }

    public void Dispose()
    {
        Renewed.Dispose();
        Previous.Dispose();
    }
}
