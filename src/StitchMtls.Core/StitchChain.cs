using System;

namespace StitchMtls;

/// <summary>
/// What Import-StitchChain wrote: the ordered chain file and the PKCS#12 when one was asked for, or the
/// certificate store entry.
/// </summary>
public sealed class StitchChain
{
    public required string Subject { get; init; }

    public required string CommonName { get; init; }

    public required string Issuer { get; init; }

    public required string Thumbprint { get; init; }

    public required DateTime NotBefore { get; init; }

    public required DateTime NotAfter { get; init; }

    public required int DaysRemaining { get; init; }

    /// <summary>The chain file written, or null when the chain went into a certificate store.</summary>
    public string? ChainPath { get; init; }

    /// <summary>The key file used, or null for a key New-StitchCsr -CertStoreLocation made.</summary>
    public string? KeyPath { get; init; }

    /// <summary>The certificate in the store, as <c>Cert:\CurrentUser\My\&lt;thumbprint&gt;</c>, or null.</summary>
    public string? StorePath { get; init; }

    /// <summary>The friendly name given in the store (Windows keeps it; other platforms' stores do not).</summary>
    public string? FriendlyName { get; init; }

    public string? PfxPath { get; init; }
}
