using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using StitchMtls.Platform;

namespace StitchMtls.Store;

/// <summary>
/// Where a key made by <c>New-StitchCsr -CertStoreLocation</c> waits for its signed certificate, found again by
/// the SHA-256 of its public key (the value New-StitchCsr prints as PublicKeySha256).
/// </summary>
/// <remarks>
/// On Linux and macOS the key itself waits here as <c>&lt;sha256&gt;.key</c>, an unencrypted PKCS#8 file
/// readable by its owner only, exactly like New-StitchCsr's key files. On Windows the key is a persisted CNG
/// key from the start, and the folder holds only <c>&lt;sha256&gt;.cng</c>, naming its provider and container
/// (no key material). The folder is <c>StitchMtls/PendingKeys</c> under the user's local application data
/// (<c>%LOCALAPPDATA%</c>; <c>$XDG_DATA_HOME</c> or <c>~/.local/share</c> elsewhere), or under
/// <c>%ProgramData%</c> for LocalMachine. Import-StitchChain removes the entry once the key is bound.
/// </remarks>
public sealed class PendingKeyFolder
{
    private const string KeyFileExtension = ".key";
    private const string CngRecordExtension = ".cng";

    public PendingKeyFolder(string path, StoreLocation location)
    {
        Path = System.IO.Path.GetFullPath(path);
        Location = location;
    }

    public string Path { get; }

    public StoreLocation Location { get; }

    public static PendingKeyFolder For(StoreLocation location)
    {
        Environment.SpecialFolder root = location == StoreLocation.LocalMachine
            ? Environment.SpecialFolder.CommonApplicationData
            : Environment.SpecialFolder.LocalApplicationData;
        string basePath = Environment.GetFolderPath(root, Environment.SpecialFolderOption.DoNotVerify);
        return new PendingKeyFolder(System.IO.Path.Combine(basePath, "StitchMtls", "PendingKeys"), location);
    }

    public string KeyFilePath(string publicKeySha256) =>
        System.IO.Path.Combine(Path, publicKeySha256 + KeyFileExtension);

    public string CngRecordPath(string publicKeySha256) =>
        System.IO.Path.Combine(Path, publicKeySha256 + CngRecordExtension);

    /// <summary>Creates the folder, owner-only on Unix, when it does not exist yet.</summary>
    public void EnsureExists()
    {
        if (!Directory.Exists(Path))
        {
            PrivateFile.CreateDirectory(Path);
        }
    }

    /// <summary>The record for a persisted CNG key: provider and container name, no key material.</summary>
    public static byte[] CngRecord(string provider, string keyName) =>
        Encoding.UTF8.GetBytes(provider + "\n" + keyName + "\n");

    /// <summary>The pending key whose public key hashes to <paramref name="publicKeySha256"/>, or null.</summary>
    public AsymmetricAlgorithm? TryOpen(string publicKeySha256)
    {
        string keyFile = KeyFilePath(publicKeySha256);
        if (File.Exists(keyFile))
        {
            return PrivateKeyFile.Load(keyFile, ReadOnlySpan<char>.Empty);
        }

        string record = CngRecordPath(publicKeySha256);
        if (File.Exists(record))
        {
            string[] lines = File.ReadAllLines(record);
            if (lines.Length >= 2)
            {
                return StorePlatform.OpenCngKey(lines[1], lines[0], Location);
            }
        }

        return null;
    }

    /// <summary>The file that holds or names the pending key, or null when there is none.</summary>
    public string? Find(string publicKeySha256)
    {
        string keyFile = KeyFilePath(publicKeySha256);
        if (File.Exists(keyFile))
        {
            return keyFile;
        }

        string record = CngRecordPath(publicKeySha256);
        return File.Exists(record) ? record : null;
    }

    /// <summary>Removes the entry once the key is held with its certificate; a key file is overwritten first.</summary>
    public void Remove(string publicKeySha256)
    {
        string keyFile = KeyFilePath(publicKeySha256);
        if (File.Exists(keyFile))
        {
            long length = new FileInfo(keyFile).Length;
            using (var stream = new FileStream(keyFile, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                stream.Write(new byte[length]);
                stream.Flush(flushToDisk: true);
            }

            File.Delete(keyFile);
        }

        File.Delete(CngRecordPath(publicKeySha256));
    }
}
