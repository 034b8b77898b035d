using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Store;
using Xunit;

namespace StitchMtls.Tests;

// None of these tests opens an X509Store: on Linux the CurrentUser store is the developer's own, under $HOME.
// Store round trips run in child pwsh processes with a private HOME (tests/CertificateStore.Tests.ps1).
public class CertificateStoreTests
{
    private const string Thumbprint = "3F2A9C0E5B7D41A8C6E2F09B1D4A7C3E8F5B2D61";

    [Theory]
    [InlineData(@"Cert:\CurrentUser\My", StoreLocation.CurrentUser, "My", null)]
    [InlineData(@"cert:\localmachine\my", StoreLocation.LocalMachine, "my", null)]
    [InlineData("Cert:/CurrentUser/My/", StoreLocation.CurrentUser, "My", null)]
    [InlineData("cert:/localmachine/Root/", StoreLocation.LocalMachine, "Root", null)]
    [InlineData(@"Cert:\CurrentUser\My\" + Thumbprint, StoreLocation.CurrentUser, "My", Thumbprint)]
    [InlineData(@"Microsoft.PowerShell.Security\Certificate::CurrentUser\My\" + Thumbprint,
        StoreLocation.CurrentUser, "My", Thumbprint)]
    public void ParsesTheFormsTheCertDriveWrites(string text, StoreLocation location, string store,
        string? thumbprint)
    {
        CertificateStorePath path = CertificateStorePath.Parse(text);

        Assert.Equal(location, path.Location);
        Assert.Equal(store, path.StoreName);
        Assert.Equal(thumbprint, path.Thumbprint);
    }

    [Theory]
    [InlineData(@"C:\certs\My")]
    [InlineData(@"Cert:\")]
    [InlineData(@"Cert:\CurrentUser")]
    [InlineData(@"Cert:\Someone\My")]
    [InlineData(@"Cert:\CurrentUser\My\ABC\extra")]
    [InlineData(@"Cert:\Nowhere\My")]
    public void RefusesWhatIsNotAStorePath(string text)
    {
        var ex = Assert.Throws<StitchMtlsException>(() => CertificateStorePath.Parse(text));

        Assert.Equal("CertStorePathInvalid", ex.ErrorId);
    }

    [Theory]
    [InlineData(@"Cert:\CurrentUser\My", null)]
    [InlineData(@"cert:/localmachine/MY", null)]
    [InlineData(@"Cert:\CurrentUser\Root", "'Root' store")]
    [InlineData(@"Cert:\CurrentUser\Foo", "'Foo' store")]
    [InlineData(@"Cert:\LocalMachine\CA", "'CA' store")]
    [InlineData(@"Cert:\CurrentUser\My\" + Thumbprint, "not a certificate")]
    [InlineData(@"C:\temp", "is not a certificate store path")]
    public void TakesOnlyThePersonalStoresAsACertStoreLocation(string text, string? refusal)
    {
        if (refusal is null)
        {
            Assert.True(CertificateStorePath.ParsePersonalStore(text).IsPersonalStore);
            return;
        }

        var ex = Assert.Throws<StitchMtlsException>(() => CertificateStorePath.ParsePersonalStore(text));

        Assert.Equal("CertStorePathInvalid", ex.ErrorId);
        Assert.Equal(FailureCategory.InvalidArgument, ex.Category);
        Assert.Contains(refusal, ex.Message);
        Assert.DoesNotContain("followed by", ex.Message);
    }

    [Theory]
    [InlineData("3f 2a 9c 0e 5b 7d 41 a8 c6 e2 f0 9b 1d 4a 7c 3e 8f 5b 2d 61")]
    [InlineData("3F:2A:9C:0E:5B:7D:41:A8:C6:E2:F0:9B:1D:4A:7C:3E:8F:5B:2D:61")]
    [InlineData("\u200e3F2A9C0E5B7D41A8C6E2F09B1D4A7C3E8F5B2D61")]
    public void NormalizesPastedThumbprints(string pasted)
    {
        Assert.Equal(Thumbprint, CertificateStorePath.NormalizeThumbprint(pasted));
    }

    [Theory]
    [InlineData("3F2A", "not a certificate thumbprint")]
    [InlineData("stitch-prod.example.com", "not a certificate thumbprint")]
    [InlineData("not-a-thumbprint", "not a certificate thumbprint")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "SHA-256")]
    public void RefusesWhatIsNotAThumbprint(string text, string explanation)
    {
        var ex = Assert.Throws<StitchMtlsException>(() => CertificateStorePath.NormalizeThumbprint(text));

        Assert.Equal("ThumbprintInvalid", ex.ErrorId);
        Assert.Contains(explanation, ex.Message);
    }

    [Fact]
    public void NamesTheIntermediateStoreOfTheSameLocation()
    {
        CertificateStorePath path = CertificateStorePath.Parse(@"Cert:\LocalMachine\My\" + Thumbprint);

        Assert.Equal(@"Cert:\LocalMachine\CA", path.IntermediateStore.ToString());
        Assert.Equal(@"Cert:\LocalMachine\My", path.Store.ToString());
    }

    [Fact]
    public void PicksTheNewestValidCertificateWithAKeyForACommonName()
    {
        TestPki pki = TestPki.Shared;
        using RSA key = RSA.Create(2048);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        X509Certificate2 old = pki.IssueLeaf(key, "stitch-prod.example.com", now.AddDays(-300)).CopyWithPrivateKey(key);
        X509Certificate2 renewed = pki.IssueLeaf(key, "stitch-prod.example.com", now.AddDays(-2))
            .CopyWithPrivateKey(key);
        X509Certificate2 newerWithoutKey = pki.IssueLeaf(key, "stitch-prod.example.com", now.AddDays(-1));
        X509Certificate2 notYetValid = pki.IssueLeaf(key, "stitch-prod.example.com", now.AddDays(3))
            .CopyWithPrivateKey(key);
        X509Certificate2 otherName = pki.IssueLeaf(key, "stitch-test.example.com", now.AddDays(-1))
            .CopyWithPrivateKey(key);

        X509Certificate2 chosen = StoreCertificates.SelectByCommonName(
            new[] { old, newerWithoutKey, renewed, notYetValid, otherName }, "STITCH-prod.example.com",
            now.UtcDateTime, requireKey: true, @"Cert:\CurrentUser\My");

        Assert.Equal(renewed.Thumbprint, chosen.Thumbprint);
    }

    [Theory]
    [InlineData("none", "CertificateNotFound")]
    [InlineData("keyless", "PrivateKeyMissing")]
    [InlineData("expired", "CertificateExpired")]
    [InlineData("future", "CertificateNotYetValid")]
    [InlineData("expiredAndFuture", "CertificateNotYetValid")]
    public void SaysWhyNoCertificateFitsACommonName(string situation, string errorId)
    {
        TestPki pki = TestPki.Shared;
        using RSA key = RSA.Create(2048);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        X509Certificate2[] certificates = situation switch
        {
            "keyless" => new[] { pki.IssueLeaf(key, "stitch-prod.example.com", now.AddDays(-1)) },
            "expired" => new[]
            {
                pki.IssueLeaf(key, "stitch-prod.example.com", now.AddDays(-400), now.AddDays(-35))
                    .CopyWithPrivateKey(key),
            },
            "future" => new[] { pki.IssueLeaf(key, "stitch-prod.example.com", now.AddDays(5)) },
            "expiredAndFuture" => new[]
            {
                pki.IssueLeaf(key, "stitch-prod.example.com", now.AddDays(-400), now.AddDays(-35)),
                pki.IssueLeaf(key, "stitch-prod.example.com", now.AddDays(5)),
            },
            _ => new[] { pki.IssueLeaf(key, "stitch-other.example.com", now.AddDays(-1)) },
        };

        var ex = Assert.Throws<StitchMtlsException>(() => StoreCertificates.SelectByCommonName(certificates,
            "stitch-prod.example.com", now.UtcDateTime, requireKey: true, @"Cert:\CurrentUser\Root"));

        Assert.Equal(errorId, ex.ErrorId);
        Assert.DoesNotContain(@"Cert:\CurrentUser\Root\", ex.Message);
        Assert.DoesNotContain(@"-CertStoreLocation Cert:\CurrentUser\Root", ex.Message);
        if (situation.Contains("future", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Contains("clock", ex.Message);
            Assert.DoesNotContain("Import the renewed", ex.Message);
        }

        if (situation == "expiredAndFuture")
        {
            Assert.Contains("1 expired", ex.Message);
        }
    }

    [Fact]
    public void CallsAnEmptyExportPasswordEmptyAndWritesNothing()
    {
        using RSA key = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "stitch-prod.example.com").CopyWithPrivateKey(key);
        string pfxPath = Path.Combine(Path.GetTempPath(), $"stitch-{Guid.NewGuid():N}.pfx");

        var ex = Assert.Throws<StitchMtlsException>(() => CertificateExport.ToPkcs12(leaf, pfxPath,
            ReadOnlySpan<char>.Empty, overwrite: false, new RecordingLog()));

        Assert.Equal("PfxPasswordRequired", ex.ErrorId);
        Assert.Contains("-PfxPassword is empty", ex.Message);
        Assert.False(File.Exists(pfxPath));
    }

    [Fact]
    public void NamesTheAccountTheThumbprintAndTheGrantCommandWhenAKeyCannotBeOpened()
    {
        using RSA key = RSA.Create(2048);
        X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "stitch-prod.example.com");

        StitchMtlsException ex = ClientCertificate.PrivateKeyAccessDenied(leaf,
            new CryptographicException("Keyset does not exist"));

        Assert.Equal("PrivateKeyAccessDenied", ex.ErrorId);
        Assert.Equal(FailureCategory.PermissionDenied, ex.Category);
        Assert.Contains(Environment.UserName, ex.Message);
        Assert.Contains($"Grant-StitchKeyAccess -Thumbprint {leaf.Thumbprint} -Account", ex.Message);
        Assert.Contains("not a TLS problem", ex.Message);
    }

    [Fact]
    public void NamesTheStoreEntryAfterTheCommonNameAndExpiry()
    {
        using RSA key = RSA.Create(2048);
        X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "stitch-prod.example.com");

        Assert.Equal($"Stitch mTLS stitch-prod.example.com (expires {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd})",
            StoreChainImport.FriendlyNameFor(leaf));
    }
}

public class PendingStoreKeyTests
{
    [Fact]
    public void KeepsTheStoreKeyOwnerOnlyUntilTheChainArrivesAndFindsItByPublicKey()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // On Windows the key is a persisted CNG key; Pester covers that path on Windows.
        }

        using var folder = new TempFolder();
        var pending = new PendingKeyFolder(folder.File("pending"), StoreLocation.CurrentUser);
        var request = new NewCsrRequest(new CsrSubject("stitch-prod.example.com", "Example Ltd", "ZA"), 2048,
            folder.Path, "stitch-prod");
        var store = new StoreKeyOptions
        {
            Location = CertificateStorePath.Parse(CertificateStorePath.CurrentUserMy),
            PendingKeys = pending,
        };

        StitchCsr csr = CertificateSigningRequest.CreateInStore(request, store, overwrite: false,
            NullOperationLog.Instance);

        Assert.Equal(pending.KeyFilePath(csr.PublicKeySha256), csr.KeyPath);
        Assert.False(File.Exists(request.KeyPath), "no key file beside the CSR");
        Assert.True(File.Exists(request.CsrPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(csr.KeyPath!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(pending.Path));
        using (AsymmetricAlgorithm? key = pending.TryOpen(csr.PublicKeySha256))
        {
            Assert.NotNull(key);
            Assert.Equal(csr.PublicKeySha256, KeyIdentity.PublicKeySha256(key!.ExportSubjectPublicKeyInfo()));
        }

        pending.Remove(csr.PublicKeySha256);
        Assert.Null(pending.Find(csr.PublicKeySha256));
    }

    [Fact]
    public void BindsTheSignedChainToThePendingKeyWithoutAKeyPath()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        var pending = new PendingKeyFolder(folder.File("pending"), StoreLocation.CurrentUser);
        pending.EnsureExists();
        using RSA key = RSA.Create(2048);
        string id = KeyIdentity.PublicKeySha256(key.ExportSubjectPublicKeyInfo());
        File.WriteAllText(pending.KeyFilePath(id), key.ExportPkcs8PrivateKeyPem());
        TestPki pki = TestPki.Shared;
        X509Certificate2 leaf = pki.IssueLeaf(key, "stitch-prod.example.com");
        string chain = TestPki.WriteTemp(folder.Path, "chain.pem", TestPki.Pem(pki.Root, leaf, pki.Intermediate));
        var request = new StoreChainImportRequest
        {
            CertificatePaths = new[] { chain },
            Location = CertificateStorePath.Parse(CertificateStorePath.CurrentUserMy),
            PendingKeys = pending,
        };

        using StoreChainImport import = StoreChainImport.Prepare(request, ReadOnlySpan<char>.Empty,
            DateTime.UtcNow, new RecordingLog());

        Assert.Equal(leaf.Thumbprint, import.Chain.Leaf.Thumbprint);
        Assert.Equal(pending.KeyFilePath(id), import.KeySource);
        Assert.Single(import.Chain.Intermediates);
    }

    [Fact]
    public void SaysWhereItLookedWhenNoPendingKeyMatches()
    {
        using var folder = new TempFolder();
        using RSA key = RSA.Create(2048);
        TestPki pki = TestPki.Shared;
        string chain = TestPki.WriteTemp(folder.Path, "chain.pem",
            TestPki.Pem(pki.IssueLeaf(key, "stitch-prod.example.com"), pki.Intermediate, pki.Root));
        var request = new StoreChainImportRequest
        {
            CertificatePaths = new[] { chain },
            Location = CertificateStorePath.Parse(CertificateStorePath.CurrentUserMy),
            PendingKeys = new PendingKeyFolder(folder.File("empty"), StoreLocation.CurrentUser),
        };

        var ex = Assert.Throws<StitchMtlsException>(() => StoreChainImport.Prepare(request,
            ReadOnlySpan<char>.Empty, DateTime.UtcNow, new RecordingLog()));

        Assert.Equal("PendingKeyNotFound", ex.ErrorId);
        Assert.Contains(folder.File("empty"), ex.Message);
    }

    [Fact]
    public void RefusesLocalMachineOutsideWindowsBeforeMakingAKey()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        var request = new NewCsrRequest(new CsrSubject("stitch-prod.example.com", "Example Ltd", "ZA"), 2048,
            folder.Path, "stitch-prod");
        var store = new StoreKeyOptions
        {
            Location = CertificateStorePath.Parse(@"Cert:\LocalMachine\My"),
            PendingKeys = new PendingKeyFolder(folder.File("pending"), StoreLocation.LocalMachine),
        };

        var ex = Assert.Throws<StitchMtlsException>(() => CertificateSigningRequest.CreateInStore(request, store,
            overwrite: false, NullOperationLog.Instance));

        Assert.Equal("PlatformNotSupported", ex.ErrorId);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }
}
