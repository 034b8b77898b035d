using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Tests;

/// <summary>A small private CA (root, intermediate) that issues client leaves, built in memory.</summary>
internal sealed class TestPki : IDisposable
{
    private static readonly DateTimeOffset s_epoch = DateTimeOffset.UtcNow;

    private static readonly Lazy<TestPki> s_shared = new(() => new TestPki("Shared"));

    /// <summary>One CA for the tests that need no CA of their own; key generation is the slow part.</summary>
    public static TestPki Shared => s_shared.Value;

    public TestPki(string name = "Test")
    {
        RootKey = RSA.Create(2048);
        Root = CreateCa($"CN={name} Root CA, O={name}", RootKey, issuer: null, issuerKey: null, pathLength: 1);
        IntermediateKey = RSA.Create(2048);
        Intermediate = CreateCa($"CN={name} Intermediate CA, O={name}", IntermediateKey, Root, RootKey, 0);
    }

    public RSA RootKey { get; }

    public X509Certificate2 Root { get; }

    public RSA IntermediateKey { get; }

    public X509Certificate2 Intermediate { get; }

    public X509Certificate2 IssueLeaf(RSA key, string commonName, DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null)
    {
        var request = new CertificateRequest($"C=ZA, O=Example Ltd, CN={commonName}", key, HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") }, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Intermediate,
            true, false));
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        return request.Create(Intermediate, notBefore ?? DateTimeOffset.UtcNow.AddMinutes(-5),
            notAfter ?? DateTimeOffset.UtcNow.AddDays(365), serial);
    }

    public static string Pem(params X509Certificate2[] certificates)
    {
        return string.Concat(Array.ConvertAll(certificates, c => c.ExportCertificatePem() + "\n"));
    }

    public static string WriteTemp(string folder, string name, string content)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static X509Certificate2 CreateCa(string subject, RSA key, X509Certificate2? issuer, RSA? issuerKey,
        int pathLength)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, pathLength, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        // Wide validity so leaves can be dated anywhere a test needs; the intermediate ends before the root.
        DateTimeOffset from = s_epoch.AddYears(-10);
        DateTimeOffset to = s_epoch.AddYears(issuer is null ? 10 : 9);
        if (issuer is null)
        {
            return request.CreateSelfSigned(from, to);
        }

        using X509Certificate2 signed = request.Create(issuer, from, to, RandomNumberGenerator.GetBytes(8));
        return signed.CopyWithPrivateKey(key);
    }

    public void Dispose()
    {
        RootKey.Dispose();
        IntermediateKey.Dispose();
    }
}

/// <summary>A temporary folder removed after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "stitchmtls-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>Collects what the core narrates, so tests can assert on warnings.</summary>
internal sealed class RecordingLog : IOperationLog
{
    public System.Collections.Generic.List<string> Warnings { get; } = new();

    public System.Collections.Generic.List<string> VerboseMessages { get; } = new();

    public void Verbose(string message) => VerboseMessages.Add(message);

    public void Warning(string message) => Warnings.Add(message);

    public void Progress(string activity, string status, int percent)
    {
    }
}
