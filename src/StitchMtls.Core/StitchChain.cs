using System;

namespace StitchMtls;

/// <summary>What Import-StitchChain wrote: the ordered chain file, and the PKCS#12 when one was asked for.</summary>
public sealed class StitchChain
{
    public required string Subject { get; init; }

    public required string CommonName { get; init; }

    public required string Issuer { get; init; }

    public required string Thumbprint { get; init; }

    public required DateTime NotBefore { get; init; }

    public required DateTime NotAfter { get; init; }

    public required int DaysRemaining { get; init; }

    public required string ChainPath { get; init; }

    public required string KeyPath { get; init; }

    public string? PfxPath { get; init; }
}
