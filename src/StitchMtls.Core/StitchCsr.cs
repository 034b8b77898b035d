namespace StitchMtls;

/// <summary>What New-StitchCsr made: the key and CSR files and the values to confirm with Stitch.</summary>
public sealed class StitchCsr
{
    public required string CommonName { get; init; }

    public required string Subject { get; init; }

    public required int KeySize { get; init; }

    /// <summary>The key file; for a store key on Linux/macOS the pending key file, on Windows null.</summary>
    public string? KeyPath { get; init; }

    public required string CsrPath { get; init; }

    public required KeyProtection KeyProtection { get; init; }

    /// <summary>Hex SHA-256 of the public key, to read out when confirming the CSR with the onboarding team.</summary>
    public required string PublicKeySha256 { get; init; }

    /// <summary>The CSR itself (public information: it holds no secret).</summary>
    public required string CsrPem { get; init; }

    /// <summary>The store the certificate goes to once signed (<c>Cert:\CurrentUser\My</c>), or null.</summary>
    public string? CertStoreLocation { get; init; }

    /// <summary>Windows: the persisted CNG key container's name.</summary>
    public string? KeyContainer { get; init; }

    /// <summary>Windows: the CNG key storage provider that holds the key.</summary>
    public string? KeyStorageProvider { get; init; }
}
