using System;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Store;

/// <summary>
/// A certificate store written the way PowerShell's Cert: drive names it (<c>Cert:\CurrentUser\My</c>), with an
/// optional thumbprint (<c>Cert:\CurrentUser\My\&lt;thumbprint&gt;</c>).
/// </summary>
/// <remarks>
/// Parsed here rather than through the Cert: drive because PowerShell on Linux and macOS has no Cert: drive,
/// while .NET's X509Store has the same CurrentUser stores there.
/// </remarks>
public sealed class CertificateStorePath
{
    public const string CurrentUserMy = @"Cert:\CurrentUser\My";

    private const string DrivePrefix = "Cert:";
    private const string ProviderPrefix = @"Microsoft.PowerShell.Security\Certificate::";

    private CertificateStorePath(StoreLocation location, string storeName, string? thumbprint)
    {
        Location = location;
        StoreName = storeName;
        Thumbprint = thumbprint;
    }

    public StoreLocation Location { get; }

    /// <summary>The store's name as X509Store takes it: <c>My</c>, <c>CA</c>, <c>Root</c>.</summary>
    public string StoreName { get; }

    /// <summary>Upper-case hex without separators, or null for the store itself.</summary>
    public string? Thumbprint { get; }

    /// <summary>The store without the thumbprint.</summary>
    public CertificateStorePath Store => new(Location, StoreName, null);

    /// <summary>True for <c>My</c>, the personal store: the only one a client certificate and key belong in.</summary>
    public bool IsPersonalStore => string.Equals(StoreName, "My", StringComparison.OrdinalIgnoreCase);

    /// <summary>The CA (intermediate) store at the same location.</summary>
    public CertificateStorePath IntermediateStore => new(Location, "CA", null);

    public CertificateStorePath WithThumbprint(string thumbprint) =>
        new(Location, StoreName, NormalizeThumbprint(thumbprint));

    public static bool LooksLikeStorePath(string? text) =>
        text is not null && (text.TrimStart().StartsWith(DrivePrefix, StringComparison.OrdinalIgnoreCase)
            || text.TrimStart().StartsWith(ProviderPrefix, StringComparison.OrdinalIgnoreCase));

    /// <exception cref="StitchMtlsException"><c>CertStorePathInvalid</c> naming the accepted forms.</exception>
    public static CertificateStorePath Parse(string text)
    {
        string trimmed = text.Trim();
        string rest = trimmed.StartsWith(ProviderPrefix, StringComparison.OrdinalIgnoreCase)
            ? trimmed.Substring(ProviderPrefix.Length)
            : trimmed.StartsWith(DrivePrefix, StringComparison.OrdinalIgnoreCase)
                ? trimmed.Substring(DrivePrefix.Length)
                : throw Invalid(text);

        string[] parts = rest.Split(new[] { '\\', '/' }, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 2 or > 3)
        {
            throw Invalid(text);
        }

        StoreLocation location = parts[0].ToUpperInvariant() switch
        {
            "CURRENTUSER" => StoreLocation.CurrentUser,
            "LOCALMACHINE" => StoreLocation.LocalMachine,
            _ => throw Invalid(text),
        };

        string? thumbprint = parts.Length == 3 ? NormalizeThumbprint(parts[2]) : null;
        return new CertificateStorePath(location, parts[1], thumbprint);
    }

    /// <summary>
    /// A <c>-CertStoreLocation</c> value: <c>Cert:\CurrentUser\My</c> or <c>Cert:\LocalMachine\My</c>, the stores
    /// a client certificate is written to and looked up in. Any other store is refused before anything happens:
    /// the trusted Root store must never receive a client key, and an unknown name would create a new store.
    /// </summary>
    /// <exception cref="StitchMtlsException"><c>CertStorePathInvalid</c>.</exception>
    public static CertificateStorePath ParsePersonalStore(string text)
    {
        CertificateStorePath path;
        try
        {
            path = Parse(text);
        }
        catch (StitchMtlsException ex) when (ex.ErrorId == "CertStorePathInvalid")
        {
            throw NotPersonalStore(text, "is not a certificate store path");
        }

        if (path.Thumbprint is not null)
        {
            throw new StitchMtlsException("CertStorePathInvalid", FailureCategory.InvalidArgument,
                $"-CertStoreLocation takes a store such as {CurrentUserMy}, not a certificate ('{text}'). " +
                "Give the thumbprint with -Thumbprint.", text);
        }

        if (!path.IsPersonalStore)
        {
            throw NotPersonalStore(text, $"names the '{path.StoreName}' store");
        }

        return path;
    }

    /// <summary>Accepts the forms people paste: spaces, colons, lower case, an invisible mark from MMC.</summary>
    /// <exception cref="StitchMtlsException"><c>ThumbprintInvalid</c>.</exception>
    public static string NormalizeThumbprint(string thumbprint)
    {
        var hex = new System.Text.StringBuilder(thumbprint.Length);
        foreach (char c in thumbprint)
        {
            if (Uri.IsHexDigit(c))
            {
                hex.Append(char.ToUpperInvariant(c));
            }
            else if (!(char.IsWhiteSpace(c) || c == ':' || c == '\u200e' || c == '\u200f'))
            {
                hex.Clear();
                break;
            }
        }

        if (hex.Length == 64)
        {
            throw new StitchMtlsException("ThumbprintInvalid", FailureCategory.InvalidArgument,
                $"'{thumbprint}' has 64 hexadecimal digits: that is a SHA-256 fingerprint (as openssl x509 " +
                "-fingerprint -sha256 prints it), but certificate stores use the SHA-1 thumbprint of 40 digits. Use " +
                "openssl x509 -fingerprint -sha1, or (Get-PfxCertificate <file>).Thumbprint.", thumbprint);
        }

        if (hex.Length != 40)
        {
            throw new StitchMtlsException("ThumbprintInvalid", FailureCategory.InvalidArgument,
                $"'{thumbprint}' is not a certificate thumbprint. Give the 40 hexadecimal digits of the SHA-1 " +
                "thumbprint, as (Get-PfxCertificate <file>).Thumbprint or Import-StitchChain's output shows it.",
                thumbprint);
        }

        return hex.ToString();
    }

    public override string ToString() =>
        $@"Cert:\{Location}\{StoreName}" + (Thumbprint is null ? string.Empty : $@"\{Thumbprint}");

    private static StitchMtlsException Invalid(string text) => new("CertStorePathInvalid",
        FailureCategory.InvalidArgument,
        $"'{text}' is not a certificate store path. Use a store such as Cert:\\CurrentUser\\My or " +
        "Cert:\\LocalMachine\\My, followed by \\<thumbprint> for one certificate.", text);

    private static StitchMtlsException NotPersonalStore(string text, string problem) => new("CertStorePathInvalid",
        FailureCategory.InvalidArgument,
        $"-CertStoreLocation '{text}' {problem}. A client certificate and its key belong in " +
        $"{CurrentUserMy} or Cert:\\LocalMachine\\My only (never the trusted Root store); give one of those.", text);
}
