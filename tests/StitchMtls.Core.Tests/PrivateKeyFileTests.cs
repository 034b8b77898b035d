using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace StitchMtls.Tests;

public class PrivateKeyFileTests
{
    private static readonly Lazy<RSA> s_key = new(() => RSA.Create(2048));

    public static TheoryData<string, Func<RSA, string>> Formats => new()
    {
        { "PKCS#1", key => key.ExportRSAPrivateKeyPem() },
        { "PKCS#8", key => key.ExportPkcs8PrivateKeyPem() },
        { "PKCS#1 with CRLF and a UTF-8 BOM", key => "\uFEFF" + key.ExportRSAPrivateKeyPem().Replace("\n", "\r\n") },
        {
            "PKCS#8 with text around it",
            key => "Key for stitch-prod\n" + key.ExportPkcs8PrivateKeyPem() + "\n-- end\n"
        },
        {
            "encrypted PKCS#8", key => key.ExportEncryptedPkcs8PrivateKeyPem("correct horse",
                new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 1000))
        },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void LoadsEveryCommonKeyFormat(string format, Func<RSA, string> write)
    {
        using var folder = new TempFolder();
        string path = folder.File("key.pem");
        File.WriteAllText(path, write(s_key.Value), new UTF8Encoding(false));

        using AsymmetricAlgorithm loaded = PrivateKeyFile.Load(path, "correct horse");

        Assert.True(CryptographicOperations.FixedTimeEquals(s_key.Value.ExportSubjectPublicKeyInfo(),
            loaded.ExportSubjectPublicKeyInfo()), format);
    }

    [Fact]
    public void TellsAWrongPasswordFromAMalformedFile()
    {
        using var folder = new TempFolder();
        string encrypted = folder.File("encrypted.key");
        File.WriteAllText(encrypted, s_key.Value.ExportEncryptedPkcs8PrivateKeyPem("right",
            new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 1000)));
        string garbage = folder.File("garbage.key");
        File.WriteAllText(garbage,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");

        Assert.Equal("KeyPasswordIncorrect",
            Assert.Throws<StitchMtlsException>(() => PrivateKeyFile.Load(encrypted, "wrong")).ErrorId);
        Assert.Equal("KeyPasswordRequired",
            Assert.Throws<StitchMtlsException>(() => PrivateKeyFile.Load(encrypted, default)).ErrorId);
        Assert.Equal("KeyFileInvalid",
            Assert.Throws<StitchMtlsException>(() => PrivateKeyFile.Load(garbage, "right")).ErrorId);
    }

    [Theory]
    [InlineData("just some text")]
    [InlineData("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n")]
    public void RejectsFilesWithoutAKey(string content)
    {
        using var folder = new TempFolder();
        string path = folder.File("not-a-key.pem");
        File.WriteAllText(path, content);

        var error = Assert.Throws<StitchMtlsException>(() => PrivateKeyFile.Load(path, default));

        Assert.Equal("KeyFileInvalid", error.ErrorId);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void WritesEncryptedKeysWithAes256AndAStrongIterationCount()
    {
        byte[] pem = PrivateKeyFile.Export(s_key.Value, "pw");
        string text = Encoding.ASCII.GetString(pem);

        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", text);
        byte[] der = Convert.FromBase64String(text.Split("-----")[2]);
        var info = System.Security.Cryptography.Pkcs.Pkcs8PrivateKeyInfo.DecryptAndDecode("pw".AsSpan(), der, out _);
        Assert.NotNull(info);
        // id-aes256-CBC (2.16.840.1.101.3.4.1.42) appears in the PBES2 parameters, DER-encoded.
        Assert.Contains("060960864801650304012A", Convert.ToHexString(der));
        Assert.Equal(600_000, PrivateKeyFile.Pbkdf2Iterations);
    }
}
