using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using Xunit;

namespace StitchMtls.Tests;

public sealed class LifecycleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("stitch-lifecycle-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void FileSwitchUndoesEveryRenameWhenOneFails()
    {
        string a = TestPki.WriteTemp(_folder, "a", "A");
        string b = TestPki.WriteTemp(_folder, "b", "B");
        string blocker = TestPki.WriteTemp(_folder, "taken", "T");
        var renames = new FileSwitch();
        renames.Move(a, Path.Combine(_folder, "a2"));
        renames.Move(b, blocker);

        var failure = Assert.Throws<StitchMtlsException>(renames.Commit);

        Assert.Equal("FileSwitchFailed", failure.ErrorId);
        Assert.Equal("A", File.ReadAllText(a));
        Assert.Equal("B", File.ReadAllText(b));
        Assert.Equal("T", File.ReadAllText(blocker));
        Assert.False(File.Exists(Path.Combine(_folder, "a2")));
    }

    [Fact]
    public void FindsCertificateFilesInSubfoldersButNotHiddenOnesOrOtherExtensions()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "b", "c"));
        Directory.CreateDirectory(Path.Combine(_folder, ".hidden"));
        TestPki.WriteTemp(_folder, "z.pem", "");
        TestPki.WriteTemp(_folder, "a.key", "");
        TestPki.WriteTemp(_folder, ".stitch-mtls-chain.pem.new-1234", "");
        TestPki.WriteTemp(Path.Combine(_folder, "b"), "x.CRT", "");
        TestPki.WriteTemp(Path.Combine(_folder, "b", "c"), "y.der", "");
        TestPki.WriteTemp(Path.Combine(_folder, ".hidden"), "h.pem", "");

        string[] found = CertificateFileFinder.Enumerate(_folder, recurse: true, (_, _) => { })
            .Select(path => Path.GetRelativePath(_folder, path))
            .ToArray();

        Assert.Equal(new[] { "z.pem", Path.Combine("b", "x.CRT"), Path.Combine("b", "c", "y.der") }, found);
    }

    [Fact]
    public void SchedulesTheCheckWithEscapedCronAndSystemdLines()
    {
        var task = new ExpiryTaskDefinition
        {
            TaskName = ExpiryTaskDefinition.DefaultTaskName,
            Paths = new[] { "/srv/100%/o'brien" },
            At = new TimeSpan(6, 5, 0),
            PowerShellPath = "/usr/bin/pwsh",
            ModulePath = "/opt/StitchMtls/StitchMtls.psd1",
            EventLog = true,
        };

        Assert.Contains("-LiteralPath '/srv/100%/o''brien' -FailOnReminder -EventLog", task.Command);
        Assert.StartsWith("5 6 * * * /usr/bin/pwsh -NoProfile -NonInteractive -Command ", task.CronLine);
        Assert.Contains(@"100\%", task.CronLine);
        Assert.Contains("100%%", task.SystemdService);
        Assert.Contains("OnCalendar=*-*-* 06:05:00", task.SystemdTimer);
        Assert.Contains("<Arguments>-NoProfile -NonInteractive -Command", task.ToTaskXml(new DateTime(2026, 12, 3)));
    }

    [Fact]
    public async System.Threading.Tasks.Task RenewsWithTheSameSubjectSwitchesAndUndoes()
    {
        TestPki pki = TestPki.Shared;
        (string chainPath, string keyPath, X509Certificate2 current) = WriteCurrentPair("stitch-prod.example.com");
        RenewalPaths paths = RenewalPaths.For(chainPath, keyPath: null);
        Assert.Equal(keyPath, paths.KeyPath);
        string originalChain = File.ReadAllText(chainPath);

        StitchRenewalRequest request = CertificateRenewal.Request(paths, paths.DefaultCsrPath(null), 2048,
            ReadOnlySpan<char>.Empty, overwrite: false, DateTime.UtcNow, NullOperationLog.Instance);

        var csr = CertificateRequest.LoadSigningRequestPem(request.CsrPem, HashAlgorithmName.SHA256);
        Assert.Equal(current.SubjectName.RawData, csr.SubjectName.RawData);
        Assert.Equal(originalChain, File.ReadAllText(chainPath));

        using AsymmetricAlgorithm pendingKey = PrivateKeyFile.Load(paths.PendingKeyPath, ReadOnlySpan<char>.Empty);
        using X509Certificate2 renewed = pki.IssueLeaf((RSA)pendingKey, "stitch-prod.example.com");
        string signed = TestPki.WriteTemp(_folder, "signed.pem", TestPki.Pem(renewed, pki.Intermediate, pki.Root));
        using (RenewalCompletion completion = CertificateRenewal.PrepareCompletion(paths, new[] { signed },
            ReadOnlySpan<char>.Empty, DateTime.UtcNow, NullOperationLog.Instance))
        {
            StitchRenewal done = await completion.CompleteAsync(null, DateTime.UtcNow, NullOperationLog.Instance,
                CancellationToken.None);
            Assert.Equal(renewed.Thumbprint, done.Thumbprint);
        }

        Assert.Equal(originalChain, File.ReadAllText(paths.PreviousCertificatePath));
        Assert.False(File.Exists(paths.RecordPath));
        Assert.False(File.Exists(paths.PendingKeyPath));

        StitchRenewal undone = CertificateRenewal.Undo(paths, DateTime.UtcNow, NullOperationLog.Instance);
        Assert.Equal(current.Thumbprint, undone.Thumbprint);
        Assert.Equal(originalChain, File.ReadAllText(chainPath));
    }

    [Fact]
    public void RefusesARenewedCertificateWithAnotherSubjectAndChangesNothing()
    {
        TestPki pki = TestPki.Shared;
        (string chainPath, _, _) = WriteCurrentPair("stitch-prod.example.com");
        RenewalPaths paths = RenewalPaths.For(chainPath, keyPath: null);
        CertificateRenewal.Request(paths, paths.DefaultCsrPath(null), 2048, ReadOnlySpan<char>.Empty, false,
            DateTime.UtcNow, NullOperationLog.Instance);
        string[] before = Directory.GetFiles(_folder).Order().ToArray();

        using AsymmetricAlgorithm pendingKey = PrivateKeyFile.Load(paths.PendingKeyPath, ReadOnlySpan<char>.Empty);
        using X509Certificate2 renamed = pki.IssueLeaf((RSA)pendingKey, "stitch-other.example.com");
        string signed = TestPki.WriteTemp(_folder, "signed.pem", TestPki.Pem(renamed, pki.Intermediate, pki.Root));
        var failure = Assert.Throws<StitchMtlsException>(() => CertificateRenewal.PrepareCompletion(paths,
            new[] { signed }, ReadOnlySpan<char>.Empty, DateTime.UtcNow, NullOperationLog.Instance));

        Assert.Equal("RenewalSubjectChanged", failure.ErrorId);
        Assert.Equal(before.Append(signed).Order(), Directory.GetFiles(_folder).Order());
    }

    private (string ChainPath, string KeyPath, X509Certificate2 Leaf) WriteCurrentPair(string commonName)
    {
        TestPki pki = TestPki.Shared;
        using RSA key = RSA.Create(2048);
        X509Certificate2 leaf = pki.IssueLeaf(key, commonName);
        string keyPath = Path.Combine(_folder, "stitch-mtls.key");
        File.WriteAllBytes(keyPath, PrivateKeyFile.Export(key, ReadOnlySpan<char>.Empty));
        string chainPath = TestPki.WriteTemp(_folder, "stitch-mtls-chain.pem", TestPki.Pem(leaf, pki.Intermediate,
            pki.Root));
        return (chainPath, keyPath, leaf);
    }
}
