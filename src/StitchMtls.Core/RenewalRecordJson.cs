using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StitchMtls;

/// <summary>
/// How a pending-renewal record (<see cref="RenewalRecord"/> for files, <see cref="Store.StoreRenewalRecord"/> for
/// a certificate store) is kept on disk: indented JSON without null members, refused when its version is not the
/// one this module writes.
/// </summary>
internal static class RenewalRecordJson
{
    private static readonly JsonSerializerOptions s_options = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static byte[] Serialize<TRecord>(TRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, s_options);

    /// <exception cref="StitchMtlsException"><c>RenewalRecordUnreadable</c> or <c>RenewalRecordInvalid</c>.</exception>
    public static TRecord Load<TRecord>(string path, Func<TRecord, int> versionOf, int currentVersion)
        where TRecord : class
    {
        try
        {
            TRecord? record = JsonSerializer.Deserialize<TRecord>(
                CertificateFile.ReadAllBytes(path, "RenewalRecordUnreadable"), s_options);
            if (record is null || versionOf(record) != currentVersion)
            {
                int? version = record is null ? null : versionOf(record);
                throw new JsonException($"Version {version} is not {currentVersion}.");
            }

            return record;
        }
        catch (JsonException ex)
        {
            throw new StitchMtlsException("RenewalRecordInvalid", FailureCategory.InvalidData,
                $"The renewal record '{path}' cannot be read ({ex.Message}). Start the renewal again with " +
                "New-StitchRenewalRequest -Force.", path, ex);
        }
    }
}
