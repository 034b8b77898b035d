using System;

namespace StitchMtls;

/// <summary>What New-StitchRenewalRequest made: the pending key, the CSR to send to Stitch and the record.</summary>
public sealed class StitchRenewalRequest
{
    public required string CommonName { get; init; }

    public required string Subject { get; init; }

    public required string CurrentThumbprint { get; init; }

    public required DateTime CurrentNotAfter { get; init; }

    public required int KeySize { get; init; }

    /// <summary>
    /// The current chain file, or in store mode the current certificate's <c>Cert:\...\&lt;thumbprint&gt;</c>
    /// path; it keeps working until the renewal is completed.
    /// </summary>
    public required string CertificatePath { get; init; }

    /// <summary>The current key file; null in store mode, where the key is held with the certificate.</summary>
    public string? KeyPath { get; init; }

    /// <summary>Store mode: the store the current certificate is in and the renewed one will go to.</summary>
    public string? CertStoreLocation { get; init; }

    /// <summary>The new key file, or in store mode the pending key entry (on Windows it names a CNG key).</summary>
    public required string PendingKeyPath { get; init; }

    public required string CsrPath { get; init; }

    public required string RecordPath { get; init; }

    public required KeyProtection KeyProtection { get; init; }

    public required string PublicKeySha256 { get; init; }

    /// <summary>The CSR itself (public information: it holds no secret).</summary>
    public required string CsrPem { get; init; }
}

/// <summary>What Complete-StitchRenewal or Undo-StitchRenewal left as the current certificate.</summary>
public sealed class StitchRenewal
{
    /// <summary><c>Completed</c> or <c>Undone</c>.</summary>
    public required string Action { get; init; }

    public required string CommonName { get; init; }

    public required string Subject { get; init; }

    public required string Thumbprint { get; init; }

    public required DateTime NotAfter { get; init; }

    public required int DaysRemaining { get; init; }

    public required string PreviousThumbprint { get; init; }

    public required DateTime PreviousNotAfter { get; init; }

    /// <summary>File mode: the current chain; in store mode the current certificate's Cert:\ path.</summary>
    public required string CertificatePath { get; init; }

    /// <summary>File mode: the current key; null in store mode.</summary>
    public string? KeyPath { get; init; }

    /// <summary>File mode: the previous chain (<c>*.previous</c>); in store mode its Cert:\ path.</summary>
    public required string PreviousCertificatePath { get; init; }

    /// <summary>File mode: the previous key; null in store mode.</summary>
    public string? PreviousKeyPath { get; init; }

    /// <summary>Store mode: whether the previous certificate and its key were removed from the store.</summary>
    public bool PreviousRemoved { get; init; }

    /// <summary>The handshake run before the switch; null with -SkipTest and for Undo.</summary>
    public StitchMtlsTestResult? TestResult { get; init; }
}
