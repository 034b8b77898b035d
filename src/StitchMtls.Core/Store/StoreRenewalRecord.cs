using System;
using System.Collections.Generic;
using System.IO;

namespace StitchMtls.Store;

/// <summary>
/// A pending renewal of a certificate in a store, written by <c>New-StitchRenewalRequest -Thumbprint</c> or
/// <c>-CommonName</c> as <c>&lt;sha256&gt;.renewal.json</c> in the <see cref="PendingKeyFolder"/>, beside the
/// pending key it belongs to (<c>&lt;sha256&gt;</c> is the SHA-256 of the new public key). Complete-StitchRenewal
/// finds it from the signed certificate's public key, so the chain alone says which renewal it completes. It
/// holds the store, the subject and public values only: never key material.
/// </summary>
public sealed class StoreRenewalRecord
{
    public const int CurrentVersion = 1;

    private const string Extension = ".renewal.json";

    public int Version { get; init; } = CurrentVersion;

    public required DateTime CreatedUtc { get; init; }

    public required string CommonName { get; init; }

    /// <summary>The subject as text, for people.</summary>
    public required string Subject { get; init; }

    /// <summary>The subject's DER encoding, base64: the renewed certificate must carry exactly these bytes.</summary>
    public required string SubjectDer { get; init; }

    /// <summary>The store of the current certificate, where the renewed one goes.</summary>
    public required string CertStoreLocation { get; init; }

    public required string CurrentThumbprint { get; init; }

    public required DateTime CurrentNotAfter { get; init; }

    public required string CsrPath { get; init; }

    /// <summary>The SHA-256 of the new public key: the pending key's name in the folder.</summary>
    public required string PublicKeySha256 { get; init; }

    public required int KeySize { get; init; }

    public static string PathFor(PendingKeyFolder folder, string publicKeySha256) =>
        System.IO.Path.Combine(folder.Path, publicKeySha256 + Extension);

    public byte[] ToJson() => RenewalRecordJson.Serialize(this);

    /// <summary>The pending renewal for the key with <paramref name="publicKeySha256"/>, or null.</summary>
    /// <exception cref="StitchMtlsException"><c>RenewalRecordInvalid</c>.</exception>
    public static StoreRenewalRecord? TryLoad(PendingKeyFolder folder, string publicKeySha256)
    {
        string path = PathFor(folder, publicKeySha256);
        return File.Exists(path) ? Load(path) : null;
    }

    /// <summary>Every pending store renewal in the folder; unreadable records are skipped and reported.</summary>
    public static IReadOnlyList<StoreRenewalRecord> LoadAll(PendingKeyFolder folder, IOperationLog log)
    {
        var records = new List<StoreRenewalRecord>();
        if (!Directory.Exists(folder.Path))
        {
            return records;
        }

        foreach (string path in Directory.EnumerateFiles(folder.Path, "*" + Extension))
        {
            try
            {
                records.Add(Load(path));
            }
            catch (StitchMtlsException ex)
            {
                log.Warning(ex.Message);
            }
        }

        return records;
    }

    /// <exception cref="StitchMtlsException"><c>RenewalRecordInvalid</c>.</exception>
    private static StoreRenewalRecord Load(string path) =>
        RenewalRecordJson.Load<StoreRenewalRecord>(path, record => record.Version, CurrentVersion);
}
