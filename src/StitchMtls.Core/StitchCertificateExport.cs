using System;

namespace StitchMtls;

/// <summary>What Export-StitchCertificate wrote.</summary>
public sealed class StitchCertificateExport
{
    public required string Subject { get; init; }

    public required string Thumbprint { get; init; }

    public required DateTime NotAfter { get; init; }

    public required string PfxPath { get; init; }

    /// <summary>Certificates in the file: the leaf and the issuers found in the stores.</summary>
    public required int CertificateCount { get; init; }
}
