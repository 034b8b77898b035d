using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Store;
using Xunit;

namespace StitchMtls.Tests;

// Like CertificateStoreTests, none of these opens an X509Store: the request works from a certificate in hand, and
// the completion is only driven as far as its checks, which come before any store is read. The store round trip
// runs in child pwsh processes with a private HOME (tests/Renewal.Store.Tests.ps1). On Windows the pending key
// would be a CNG key in the user's real key store, so these return early there.
public class StoreRenewalTests
{
    private static readonly CertificateStorePath s_my = CertificateStorePath.Parse(CertificateStorePath.CurrentUserMy);

    [Fact]
    public void RequestsWithTheCurrentSubjectByteForByteAndRecordsItBesideThePendingKey()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        using X509Certificate2 current = CurrentCertificate();
        StoreRenewalOptions options = Options(folder);
        string csrPath = StoreRenewal.CsrPathFor(current, folder.Path);

        StitchRenewalRequest request = StoreRenewal.Request(current, options, csrPath, 2048, overwrite: false,
            DateTime.UtcNow, NullOperationLog.Instance);

        var csr = CertificateRequest.LoadSigningRequestPem(File.ReadAllText(request.CsrPath),
            HashAlgorithmName.SHA256);
        Assert.Equal(current.SubjectName.RawData, csr.SubjectName.RawData);
        Assert.NotEqual(current.PublicKey.ExportSubjectPublicKeyInfo(), csr.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(Path.Combine(folder.Path, "stitch-prod.example.com.renewal.csr"), request.CsrPath);
        Assert.Equal(options.PendingKeyFolder.KeyFilePath(request.PublicKeySha256), request.PendingKeyPath);
        Assert.Equal(StoreRenewalRecord.PathFor(options.PendingKeyFolder, request.PublicKeySha256),
            request.RecordPath);
        Assert.Equal($@"Cert:\CurrentUser\My\{current.Thumbprint}", request.CertificatePath);
        Assert.Null(request.KeyPath);
        string record = File.ReadAllText(request.RecordPath);
        Assert.DoesNotContain("PRIVATE KEY", record);
        Assert.Contains(current.Thumbprint, record);
    }

    [Fact]
    public void RefusesASecondRequestForTheSameCertificateAndWithForceDeletesTheEarlierPendingKey()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        using X509Certificate2 current = CurrentCertificate();
        StoreRenewalOptions options = Options(folder);
        string csrPath = StoreRenewal.CsrPathFor(current, folder.Path);
        StitchRenewalRequest first = StoreRenewal.Request(current, options, csrPath, 2048, overwrite: false,
            DateTime.UtcNow, NullOperationLog.Instance);

        var ex = Assert.Throws<StitchMtlsException>(() => StoreRenewal.Request(current, options, csrPath, 2048,
            overwrite: false, DateTime.UtcNow, NullOperationLog.Instance));
        StitchRenewalRequest second = StoreRenewal.Request(current, options, csrPath, 2048, overwrite: true,
            DateTime.UtcNow, NullOperationLog.Instance);

        Assert.Equal("RenewalPending", ex.ErrorId);
        Assert.False(File.Exists(first.PendingKeyPath), "the replaced pending key is deleted");
        Assert.False(File.Exists(first.RecordPath), "the replaced record is deleted");
        Assert.True(File.Exists(second.PendingKeyPath));
        Assert.True(File.Exists(second.RecordPath));
    }

    [Fact]
    public void RefusesAChainForAnotherKeyAndNamesThePendingRenewal()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        using X509Certificate2 current = CurrentCertificate();
        StoreRenewalOptions options = Options(folder);
        StitchRenewalRequest request = StoreRenewal.Request(current, options,
            StoreRenewal.CsrPathFor(current, folder.Path), 2048, overwrite: false, DateTime.UtcNow,
            NullOperationLog.Instance);
        using RSA otherKey = RSA.Create(2048);
        TestPki pki = TestPki.Shared;
        string chain = TestPki.WriteTemp(folder.Path, "wrong.pem",
            TestPki.Pem(pki.IssueLeaf(otherKey, "stitch-prod.example.com"), pki.Intermediate, pki.Root));

        var ex = Assert.Throws<StitchMtlsException>(() => StoreRenewal.PrepareCompletion(s_my, new[] { chain },
            options.PendingKeyFolder, DateTime.UtcNow, new RecordingLog()));

        Assert.Equal("KeyCertificateMismatch", ex.ErrorId);
        Assert.Contains(request.CsrPath, ex.Message);
        Assert.True(File.Exists(request.PendingKeyPath), "the pending renewal is kept");
    }

    [Fact]
    public void SaysThereIsNoPendingRenewalWhenNoneWasStarted()
    {
        using var folder = new TempFolder();
        using RSA key = RSA.Create(2048);
        TestPki pki = TestPki.Shared;
        string chain = TestPki.WriteTemp(folder.Path, "signed.pem",
            TestPki.Pem(pki.IssueLeaf(key, "stitch-prod.example.com"), pki.Intermediate, pki.Root));
        var pending = new PendingKeyFolder(folder.File("pending"), StoreLocation.CurrentUser);

        var ex = Assert.Throws<StitchMtlsException>(() => StoreRenewal.PrepareCompletion(s_my, new[] { chain },
            pending, DateTime.UtcNow, new RecordingLog()));

        Assert.Equal("RenewalNotFound", ex.ErrorId);
        Assert.Contains("New-StitchRenewalRequest", ex.Message);
    }

    [Fact]
    public void RefusesToRemoveThePreviousCertificateWithoutATest()
    {
        var ex = Assert.Throws<StitchMtlsException>(() =>
            StoreRenewal.CheckCompletionOptions(skipTest: true, removePrevious: true));

        Assert.Equal("RemovePreviousNeedsTest", ex.ErrorId);
        StoreRenewal.CheckCompletionOptions(skipTest: false, removePrevious: true);
        StoreRenewal.CheckCompletionOptions(skipTest: true, removePrevious: false);
    }

    private static X509Certificate2 CurrentCertificate()
    {
        using RSA key = RSA.Create(2048);
        return TestPki.Shared.IssueLeaf(key, "stitch-prod.example.com", DateTimeOffset.UtcNow.AddDays(-330),
            DateTimeOffset.UtcNow.AddDays(35));
    }

    private static StoreRenewalOptions Options(TempFolder folder) => new()
    {
        Location = s_my,
        CsrFolder = folder.Path,
        PendingKeys = new PendingKeyFolder(folder.File("pending"), StoreLocation.CurrentUser),
    };
}
