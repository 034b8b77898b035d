using System;
using System.Diagnostics;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using Xunit;

namespace StitchMtls.Tests;

/// <summary>The files a folder scan must not open, and the key a removal must find beside its certificate.</summary>
public sealed class CompromiseAndScanTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("stitch-compromise-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void RefusesAnEmptyFileWithoutReadingIt()
    {
        string empty = TestPki.WriteTemp(_folder, "empty.pem", string.Empty);

        var failure = Assert.Throws<StitchMtlsException>(() => CertificateFile.Load(empty));

        Assert.Equal("CertificateFileInvalid", failure.ErrorId);
        Assert.Contains("not opened", failure.Message);
    }

    [Fact]
    public async Task RefusesANamedPipeInsteadOfWaitingForAWriter()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        string pipe = Path.Combine(_folder, "pipe.pem");
        using (Process mkfifo = Process.Start("mkfifo", pipe))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // A generous limit for a shared machine: the point is that the call returns at all.
        Task<StitchMtlsException> load = Task.Run(() =>
            Assert.Throws<StitchMtlsException>(() => CertificateFile.Load(pipe)));
        Task finished = await Task.WhenAny(load, Task.Delay(TimeSpan.FromMinutes(2)));

        Assert.Same(load, finished);
        Assert.Equal("CertificateFileInvalid", (await load).ErrorId);
    }

    [Fact]
    public void SaysAPkcs12IsPasswordProtected()
    {
        using RSA key = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "stitch-pfx.example.com");
        using X509Certificate2 withKey = leaf.CopyWithPrivateKey(key);
        string pfx = Path.Combine(_folder, "protected.pfx");
        File.WriteAllBytes(pfx, withKey.Export(X509ContentType.Pfx, "pfx-password"));

        var failure = Assert.Throws<StitchMtlsException>(() => CertificateFile.Load(pfx));

        Assert.Equal("CertificateFileInvalid", failure.ErrorId);
        Assert.Contains("password-protected PKCS#12", failure.Message);
    }

    [Theory]
    [InlineData("stitch-mtls-chain.pem", "stitch-mtls.key")]
    [InlineData("current.pem", "prod-2026.key")]
    public void FindsTheCertificatesKeyBesideItByPublicKey(string chainName, string keyName)
    {
        using RSA key = RSA.Create(2048);
        using RSA otherKey = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "stitch-beside.example.com");
        string chain = TestPki.WriteTemp(_folder, chainName, TestPki.Pem(leaf, TestPki.Shared.Intermediate));
        TestPki.WriteTemp(_folder, "another.key", otherKey.ExportPkcs8PrivateKeyPem());
        string expected = TestPki.WriteTemp(_folder, keyName, key.ExportPkcs8PrivateKeyPem());

        Assert.Equal(expected, CertificateRemoval.FindKeyBeside(leaf, chain));
    }

    [Fact]
    public void RefusesWithKeyPathRequiredWhenNoKeyBesideMatches()
    {
        using RSA key = RSA.Create(2048);
        using RSA otherKey = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "stitch-alone.example.com");
        string chain = TestPki.WriteTemp(_folder, "stitch-mtls-chain.pem", TestPki.Pem(leaf));
        TestPki.WriteTemp(_folder, "stitch-mtls.key", otherKey.ExportPkcs8PrivateKeyPem());

        var failure = Assert.Throws<StitchMtlsException>(() => CertificateRemoval.FindKeyBeside(leaf, chain));

        Assert.Equal("KeyPathRequired", failure.ErrorId);
        Assert.Equal(FailureCategory.InvalidArgument, failure.Category);
    }
}
