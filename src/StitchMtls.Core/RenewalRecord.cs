using System;
using System.IO;

namespace StitchMtls;

/// <summary>
/// A pending renewal, written by New-StitchRenewalRequest as <c>&lt;name&gt;.renewal.json</c> next to the current
/// certificate and read by Complete-StitchRenewal. It holds paths, the subject and public values only: never key
/// material or a password.
/// </summary>
public sealed class RenewalRecord
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    public required DateTime CreatedUtc { get; init; }

    public required string CommonName { get; init; }

    /// <summary>The subject as text, for people.</summary>
    public required string Subject { get; init; }

    /// <summary>The subject's DER encoding, base64: the renewed certificate must carry exactly these bytes.</summary>
    public required string SubjectDer { get; init; }

    public required string CertificatePath { get; init; }

    public required string KeyPath { get; init; }

    public required string CurrentThumbprint { get; init; }

    public required string PendingKeyPath { get; init; }

    public required string CsrPath { get; init; }

    public required string PublicKeySha256 { get; init; }

    public required int KeySize { get; init; }

    public byte[] ToJson() => RenewalRecordJson.Serialize(this);

    /// <exception cref="StitchMtlsException"><c>RenewalNotFound</c> or <c>RenewalRecordInvalid</c>.</exception>
    public static RenewalRecord Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new StitchMtlsException("RenewalNotFound", FailureCategory.ObjectNotFound,
                $"There is no pending renewal: '{path}' does not exist. Start one with New-StitchRenewalRequest " +
                "-CertificatePath <current chain>.", path);
        }

        return RenewalRecordJson.Load<RenewalRecord>(path, record => record.Version, CurrentVersion);
    }
}
