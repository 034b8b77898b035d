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

        var failure = Assert.Throws<StitchMtlsException>(() => renames.Commit());

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

    [Fact]
    public void FileSwitchUndoesEveryRenameWhenTheCheckAfterItFails()
    {
        string a = TestPki.WriteTemp(_folder, "a", "A");
        string a2 = Path.Combine(_folder, "a2");
        var renames = new FileSwitch();
        renames.Move(a, a2);

        var failure = Assert.Throws<StitchMtlsException>(() => renames.Commit(() => throw new StitchMtlsException(
            "FileSwitchFailed", FailureCategory.WriteError, "the switched pair does not match")));

        Assert.Equal("FileSwitchFailed", failure.ErrorId);
        Assert.Equal("A", File.ReadAllText(a));
        Assert.False(File.Exists(a2));
    }

    [Fact]
    public void RequestRefusesAKeyThatIsNotTheCertificatesAndWritesNothing()
    {
        (string chainPath, string keyPath, _) = WriteCurrentPair("stitch-prod.example.com");
        string wrongKey = WriteOtherKey("wrong.key");
        string[] before = Directory.GetFiles(_folder).Order().ToArray();
        RenewalPaths paths = RenewalPaths.For(chainPath, wrongKey);

        var failure = Assert.Throws<StitchMtlsException>(() => CertificateRenewal.Request(paths,
            paths.DefaultCsrPath(null), 2048, ReadOnlySpan<char>.Empty, overwrite: false, DateTime.UtcNow,
            NullOperationLog.Instance));

        Assert.Equal("KeyCertificateMismatch", failure.ErrorId);
        Assert.Equal(FailureCategory.InvalidData, failure.Category);
        Assert.Contains(wrongKey, failure.Message);
        Assert.Contains(chainPath, failure.Message);
        Assert.Equal(before, Directory.GetFiles(_folder).Order());
        Assert.True(File.Exists(keyPath));
    }

    [Fact]
    public void CompletionRefusesWhenTheCurrentKeyIsNotTheCertificatesAndChangesNothing()
    {
        TestPki pki = TestPki.Shared;
        (string chainPath, string keyPath, _) = WriteCurrentPair("stitch-prod.example.com");
        RenewalPaths paths = RenewalPaths.For(chainPath, keyPath: null);
        CertificateRenewal.Request(paths, paths.DefaultCsrPath(null), 2048, ReadOnlySpan<char>.Empty, false,
            DateTime.UtcNow, NullOperationLog.Instance);
        File.Copy(WriteOtherKey("other.key"), keyPath, overwrite: true);
        using AsymmetricAlgorithm pendingKey = PrivateKeyFile.Load(paths.PendingKeyPath, ReadOnlySpan<char>.Empty);
        using X509Certificate2 renewed = pki.IssueLeaf((RSA)pendingKey, "stitch-prod.example.com");
        string signed = TestPki.WriteTemp(_folder, "signed.pem", TestPki.Pem(renewed, pki.Intermediate, pki.Root));
        string[] before = FolderState();

        var failure = Assert.Throws<StitchMtlsException>(() => CertificateRenewal.PrepareCompletion(paths,
            new[] { signed }, ReadOnlySpan<char>.Empty, DateTime.UtcNow, NullOperationLog.Instance));

        Assert.Equal("KeyCertificateMismatch", failure.ErrorId);
        Assert.Equal(before, FolderState());
    }

    [Fact]
    public async System.Threading.Tasks.Task UndoRefusesAPreviousPairThatDoesNotMatchAndChangesNothing()
    {
        TestPki pki = TestPki.Shared;
        (string chainPath, _, _) = WriteCurrentPair("stitch-prod.example.com");
        RenewalPaths paths = RenewalPaths.For(chainPath, keyPath: null);
        CertificateRenewal.Request(paths, paths.DefaultCsrPath(null), 2048, ReadOnlySpan<char>.Empty, false,
            DateTime.UtcNow, NullOperationLog.Instance);
        using AsymmetricAlgorithm pendingKey = PrivateKeyFile.Load(paths.PendingKeyPath, ReadOnlySpan<char>.Empty);
        using X509Certificate2 renewed = pki.IssueLeaf((RSA)pendingKey, "stitch-prod.example.com");
        string signed = TestPki.WriteTemp(_folder, "signed.pem", TestPki.Pem(renewed, pki.Intermediate, pki.Root));
        using (RenewalCompletion completion = CertificateRenewal.PrepareCompletion(paths, new[] { signed },
            ReadOnlySpan<char>.Empty, DateTime.UtcNow, NullOperationLog.Instance))
        {
            await completion.CompleteAsync(null, DateTime.UtcNow, NullOperationLog.Instance, CancellationToken.None);
        }

        File.Copy(WriteOtherKey("other.key"), paths.PreviousKeyPath, overwrite: true);
        string[] before = FolderState();

        var failure = Assert.Throws<StitchMtlsException>(() =>
            CertificateRenewal.Undo(paths, DateTime.UtcNow, NullOperationLog.Instance));

        Assert.Equal("KeyCertificateMismatch", failure.ErrorId);
        Assert.Equal(before, FolderState());
    }

    [Theory]
    [InlineData(ConnectionStage.Connect, "ConnectionRefused", FailureCategory.ConnectionError)]
    [InlineData(ConnectionStage.Connect, "ConnectTimeout", FailureCategory.ConnectionError)]
    [InlineData(ConnectionStage.Resolve, "DnsFailure", FailureCategory.ConnectionError)]
    [InlineData(ConnectionStage.Proxy, "ProxyAuthenticationRequired", FailureCategory.ConnectionError)]
    [InlineData(ConnectionStage.Tls, "TlsTimeout", FailureCategory.ConnectionError)]
    [InlineData(ConnectionStage.Tls, "UnknownCa", FailureCategory.SecurityError)]
    [InlineData(ConnectionStage.Tls, "ClosedAfterHandshake", FailureCategory.SecurityError)]
    [InlineData(ConnectionStage.Http, "RbacDenied", FailureCategory.PermissionDenied)]
    [InlineData(ConnectionStage.Http, "HttpError", FailureCategory.InvalidResult)]
    [InlineData(ConnectionStage.Http, "ResponseTimeout", FailureCategory.ConnectionError)]
    [InlineData(ConnectionStage.Token, "TokenInvalidClient", FailureCategory.AuthenticationError)]
    [InlineData(ConnectionStage.Token, "TokenServerError", FailureCategory.ResourceUnavailable)]
    [InlineData(ConnectionStage.PreFlight, "CertificateExpired", FailureCategory.InvalidData)]
    public void RenewalTestFailureTakesTheCategoryOfTheFailedStage(ConnectionStage stage, string diagnosisId,
        FailureCategory expected)
    {
        var result = new StitchMtlsTestResult
        {
            Endpoint = "https://127.0.0.1:1/",
            Success = false,
            Stage = stage,
            FailedStage = stage,
            DiagnosisId = diagnosisId,
            Diagnosis = "What happened.",
            Stages = Array.Empty<ConnectionStageResult>(),
        };

        Assert.Equal(expected, CertificateRenewal.TestFailureCategory(result));
    }

    [Theory]
    [InlineData(null, 4096)]
    [InlineData(2048, 2048)]
    [InlineData(3072, 3072)]
    public void RenewalKeyIsRsa4096UnlessAsked(int? requested, int expected)
    {
        Assert.Equal(expected, CertificateRenewal.ChooseKeySize(requested));
    }

    private string[] FolderState() => Directory.GetFiles(_folder).Order()
        .Select(path => $"{Path.GetFileName(path)}={Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))}")
        .ToArray();

    private string WriteOtherKey(string name)
    {
        using RSA other = RSA.Create(2048);
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, PrivateKeyFile.Export(other, ReadOnlySpan<char>.Empty));
        return path;
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
