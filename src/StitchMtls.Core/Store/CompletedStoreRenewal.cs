using System;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StitchMtls.Store;

/// <summary>
/// The last completed renewal of a store certificate, written by Complete-StitchRenewal (without
/// <c>-RemovePrevious</c>) as <c>Completed/&lt;renewed thumbprint&gt;.json</c> in the <see cref="PendingKeyFolder"/>.
/// It is what Undo-StitchRenewal may undo: the renewed certificate, and the certificate it replaced. Only the
/// newest renewal of a certificate line is undoable: completing a renewal of the renewed certificate deletes its
/// record, and so does an undo, so running Undo twice never walks back through older generations. Public values
/// only: never key material.
/// </summary>
public sealed class CompletedStoreRenewal
{
    public const int CurrentVersion = 1;

    private const string FolderName = "Completed";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public int Version { get; init; } = CurrentVersion;

    public required DateTime CompletedUtc { get; init; }

    public required string Subject { get; init; }

    public required string CertStoreLocation { get; init; }

    /// <summary>The certificate the renewal added.</summary>
    public required string RenewedThumbprint { get; init; }

    /// <summary>The certificate it replaced: the one an undo leaves in use.</summary>
    public required string PreviousThumbprint { get; init; }

    public static string PathFor(PendingKeyFolder folder, string renewedThumbprint) =>
        System.IO.Path.Combine(folder.Path, FolderName, renewedThumbprint.ToUpperInvariant() + ".json");

    /// <summary>Writes the record, owner-only like the pending renewal records.</summary>
    public void Save(PendingKeyFolder folder)
    {
        string path = PathFor(folder, RenewedThumbprint);
        string directory = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            folder.EnsureExists();
            Platform.PrivateFile.CreateDirectory(directory);
        }

        var files = new FileSet();
        files.AddPrivate(path, JsonSerializer.SerializeToUtf8Bytes(this, s_json));
        files.Commit(overwrite: true);
    }

    /// <summary>The record of the renewal that added <paramref name="renewedThumbprint"/>, or null.</summary>
    /// <remarks>An unreadable record counts as none: undo then refuses, which changes nothing.</remarks>
    public static CompletedStoreRenewal? TryLoad(PendingKeyFolder folder, string renewedThumbprint)
    {
        string path = PathFor(folder, renewedThumbprint);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            CompletedStoreRenewal? record = JsonSerializer.Deserialize<CompletedStoreRenewal>(
                File.ReadAllBytes(path), s_json);
            return record is not null && record.Version == CurrentVersion ? record : null;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Deletes the record of the renewal that added <paramref name="renewedThumbprint"/>, if any.</summary>
    public static void Delete(PendingKeyFolder folder, string renewedThumbprint)
    {
        string path = PathFor(folder, renewedThumbprint);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
