using System;
using System.Security.Cryptography;

namespace StitchMtls.Platform;

/// <summary>
/// A key that New-StitchCsr -CertStoreLocation has just made, and the entry the pending key folder keeps for it
/// until Import-StitchChain binds the signed certificate. The platforms differ only here: on Windows the key is
/// a persisted CNG key from the start and the entry names its provider and container (no key material);
/// elsewhere the key exists in memory and the entry is the key itself, an owner-only PKCS#8 file.
/// </summary>
internal sealed class PendingStoreKey : IDisposable
{
    private PendingStoreKey(RSA key, string? container, string? provider)
    {
        Key = key;
        KeyContainer = container;
        KeyStorageProvider = provider;
    }

    public RSA Key { get; }

    /// <summary>The CNG container name (Windows); null where the key is held in the pending key file.</summary>
    public string? KeyContainer { get; }

    /// <summary>The CNG key storage provider (Windows); null elsewhere.</summary>
    public string? KeyStorageProvider { get; }

    public KeyProtection Protection => KeyContainer is null ? KeyProtection.Plain : KeyProtection.KeyStorageProvider;

    /// <exception cref="StitchMtlsException"><c>PlatformNotSupported</c> or <c>KeyCreationFailed</c>.</exception>
    public static PendingStoreKey Create(StoreKeyOptions options, int keySize, string commonName, IOperationLog log)
    {
        if (!OperatingSystem.IsWindows())
        {
            log.Verbose($"Generating an RSA-{keySize} key for CN={commonName}.");
            RSA inMemory = StorePlatform.CreateStoreKey(options.Location.Location, keySize, options.Exportable,
                options.KeyStorageProvider, keyName: string.Empty);
            return new PendingStoreKey(inMemory, null, null);
        }

        string keyName = "StitchMtls-" + Guid.NewGuid().ToString("N");
        string provider = options.KeyStorageProvider ?? StorePlatform.SoftwareKeyStorageProvider;
        log.Verbose($"Creating a persisted RSA-{keySize} key '{keyName}' in '{provider}' " +
            $"({(options.Exportable ? "exportable" : "not exportable")}).");
        RSA persisted = StorePlatform.CreateStoreKey(options.Location.Location, keySize, options.Exportable,
            provider, keyName);
        return new PendingStoreKey(persisted, keyName, provider);
    }

    /// <summary>Where the pending entry for this key goes in <paramref name="folder"/>.</summary>
    public string EntryPath(Store.PendingKeyFolder folder, string publicKeySha256) => KeyContainer is null
        ? folder.KeyFilePath(publicKeySha256)
        : folder.CngRecordPath(publicKeySha256);

    /// <summary>The pending entry's bytes; the caller zeroes them after writing.</summary>
    public byte[] EntryContent() => KeyContainer is null
        ? PrivateKeyFile.Export(Key, ReadOnlySpan<char>.Empty)
        : Store.PendingKeyFolder.CngRecord(KeyStorageProvider!, KeyContainer);

    /// <summary>The key file New-StitchCsr reports as KeyPath: the entry when it holds the key, else null.</summary>
    public string? KeyFilePath(Store.PendingKeyFolder folder, string publicKeySha256) =>
        KeyContainer is null ? folder.KeyFilePath(publicKeySha256) : null;

    /// <summary>
    /// Deletes a persisted key whose entry was never written (a failed or cancelled call), so no orphaned key
    /// stays in the provider; an in-memory key goes with <see cref="Dispose"/>.
    /// </summary>
    public void Discard()
    {
        if (OperatingSystem.IsWindows() && Key is RSACng { Key.IsEphemeral: false } cng)
        {
            cng.Key.Delete();
        }
    }

    public void Dispose() => Key.Dispose();
}
