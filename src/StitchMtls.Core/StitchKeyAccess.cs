namespace StitchMtls;

/// <summary>What Grant-StitchKeyAccess changed.</summary>
public sealed class StitchKeyAccess
{
    public required string Subject { get; init; }

    public required string Thumbprint { get; init; }

    public required string Account { get; init; }

    /// <summary><c>CNG</c> (a key storage provider key) or <c>CSP</c> (a legacy CryptoAPI key container).</summary>
    public required string KeyKind { get; init; }

    public required string StorePath { get; init; }
}
