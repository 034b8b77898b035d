using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace StitchMtls.Tests;

public class ChainTests
{
    private static readonly Lazy<RSA> s_key = new(() => RSA.Create(2048));

    public static TheoryData<string, int[], bool> Orders => new()
    {
        { "leaf, intermediate, root", new[] { 0, 1, 2 }, false },
        { "root first", new[] { 2, 1, 0 }, true },
        { "intermediate, leaf, root", new[] { 1, 0, 2 }, true },
        { "root, leaf, intermediate", new[] { 2, 0, 1 }, true },
    };

    [Theory]
    [MemberData(nameof(Orders))]
    public void OrdersTheChainFromTheLeafFoundByTheKey(string order, int[] indexes, bool reordered)
    {
        TestPki pki = TestPki.Shared;
        using X509Certificate2 leaf = pki.IssueLeaf(s_key.Value, "stitch-prod.example.com");
        X509Certificate2[] inOrder = { leaf, pki.Intermediate, pki.Root };

        ClientChain chain = ClientChain.Assemble(indexes.Select(i => inOrder[i]).ToList(), s_key.Value, "key");

        Assert.Equal(inOrder.Select(c => c.Thumbprint), chain.InOrder.Select(c => c.Thumbprint));
        Assert.Equal(reordered, chain.WasReordered);
        Assert.Equal(pki.Root.Thumbprint, chain.Root?.Thumbprint);
        ChainValidator.Validate(chain, DateTime.UtcNow);
        _ = order;
    }

    [Fact]
    public void RefusesAKeyThatBelongsToNoCertificate()
    {
        TestPki pki = TestPki.Shared;
        using X509Certificate2 leaf = pki.IssueLeaf(s_key.Value, "stitch-prod.example.com");
        using RSA other = RSA.Create(2048);

        var error = Assert.Throws<StitchMtlsException>(() =>
            ClientChain.Assemble(new[] { leaf, pki.Intermediate, pki.Root }, other, "other.key"));

        Assert.Equal("KeyCertificateMismatch", error.ErrorId);
        Assert.Contains("'other.key'", error.Message);
    }

    [Fact]
    public void NamesTheMissingIntermediate()
    {
        TestPki pki = TestPki.Shared;
        using X509Certificate2 leaf = pki.IssueLeaf(s_key.Value, "stitch-prod.example.com");
        ClientChain chain = ClientChain.Assemble(new[] { leaf, pki.Root }, s_key.Value, "key");

        var error = Assert.Throws<StitchMtlsException>(() => ChainValidator.Validate(chain, DateTime.UtcNow));

        Assert.Equal("ChainIncomplete", error.ErrorId);
        Assert.Contains(pki.Intermediate.Subject, error.Message);
    }

    [Fact]
    public void RefusesARootThatOnlyLooksRight()
    {
        TestPki pki = TestPki.Shared;
        using var impostor = new TestPki("Shared");
        using X509Certificate2 leaf = pki.IssueLeaf(s_key.Value, "stitch-prod.example.com");
        ClientChain chain = ClientChain.Assemble(new[] { leaf, pki.Intermediate, impostor.Root }, s_key.Value, "k");

        var error = Assert.Throws<StitchMtlsException>(() => ChainValidator.Validate(chain, DateTime.UtcNow));

        Assert.Equal("ChainUntrusted", error.ErrorId);
    }

    [Theory]
    [InlineData(-400, -1, "CertificateExpired")]
    [InlineData(2, 367, "CertificateNotYetValid")]
    public void RefusesLeavesOutsideTheirValidity(int fromDays, int toDays, string errorId)
    {
        TestPki pki = TestPki.Shared;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 leaf = pki.IssueLeaf(s_key.Value, "stitch-prod.example.com", now.AddDays(fromDays),
            now.AddDays(toDays));
        ClientChain chain = ClientChain.Assemble(new[] { leaf, pki.Intermediate, pki.Root }, s_key.Value, "key");

        var error = Assert.Throws<StitchMtlsException>(() => ChainValidator.Validate(chain, DateTime.UtcNow));

        Assert.Equal(errorId, error.ErrorId);
        if (errorId == "CertificateNotYetValid")
        {
            Assert.Contains("clock", error.Message);
        }
    }

    [Fact]
    public void ImportWritesTheOrderedChainAndALoadablePfx()
    {
        TestPki pki = TestPki.Shared;
        using X509Certificate2 leaf = pki.IssueLeaf(s_key.Value, "stitch-prod.example.com");
        using var folder = new TempFolder();
        string keyPath = TestPki.WriteTemp(folder.Path, "stitch-mtls.key", s_key.Value.ExportPkcs8PrivateKeyPem());
        string chainIn = TestPki.WriteTemp(folder.Path, "from-stitch.pem",
            TestPki.Pem(pki.Root, leaf, pki.Intermediate));
        var request = new ChainImportRequest
        {
            CertificatePaths = new[] { chainIn }, KeyPath = keyPath, PfxPath = folder.File("stitch-mtls.pfx"),
        };
        var log = new RecordingLog();

        using ChainImport import = ChainImport.Prepare(request, default, DateTime.UtcNow, log);
        StitchChain written = import.Write("pfx-pass", overwrite: false, DateTime.UtcNow, log);

        Assert.Single(log.Warnings);
        Assert.Equal(folder.File("stitch-mtls-chain.pem"), written.ChainPath);
        Assert.Equal(TestPki.Pem(leaf, pki.Intermediate, pki.Root).Replace("\r", ""),
            File.ReadAllText(written.ChainPath!));
        X509Certificate2Collection pfx = X509CertificateLoader.LoadPkcs12CollectionFromFile(written.PfxPath!,
            "pfx-pass", X509KeyStorageFlags.EphemeralKeySet);
        Assert.Equal(3, pfx.Count);
        Assert.True(pfx.Cast<X509Certificate2>().Single(c => c.Thumbprint == leaf.Thumbprint).HasPrivateKey);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(written.PfxPath!));
        }
    }

    [Fact]
    public void ReadsBlocksGluedTogetherByConcatenatingFilesWithoutAFinalNewline()
    {
        TestPki pki = TestPki.Shared;
        string glued = pki.Root.ExportCertificatePem() + pki.Intermediate.ExportCertificatePem();

        var certificates = CertificateFile.Parse(System.Text.Encoding.ASCII.GetBytes(glued));

        Assert.Equal(new[] { pki.Root.Thumbprint, pki.Intermediate.Thumbprint },
            certificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void ReadsUtf16PemAsWindowsPowerShellWritesIt()
    {
        TestPki pki = TestPki.Shared;
        byte[] utf16 = System.Text.Encoding.Unicode.GetPreamble()
            .Concat(System.Text.Encoding.Unicode.GetBytes(pki.Root.ExportCertificatePem() + "\r\n")).ToArray();

        Assert.Equal(pki.Root.Thumbprint, Assert.Single(CertificateFile.Parse(utf16)).Thumbprint);
    }

    [Fact]
    public void SaysSoWhenGivenAFolderForAFile()
    {
        using var folder = new TempFolder();

        var error = Assert.Throws<StitchMtlsException>(() => CertificateFile.Load(folder.Path));

        Assert.Equal("CertificateFileIsFolder", error.ErrorId);
    }
}
