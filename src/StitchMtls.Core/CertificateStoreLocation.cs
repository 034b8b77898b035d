using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace StitchMtls;

/// <summary>
/// A certificate store written the way PowerShell's <c>Cert:</c> drive writes it, such as
/// <c>Cert:\CurrentUser\My</c> or <c>Cert:\CurrentUser\My\&lt;thumbprint&gt;</c>.
/// </summary>
/// <remarks>
/// PowerShell on Linux and macOS has no <c>Cert:</c> drive, so the path is parsed here and opened with
/// <see cref="X509Store"/>, which on those systems is .NET's own store under the user's home folder.
/// </remarks>
public sealed class CertificateStoreLocation
{
    private static readonly Regex s_path = new(
        @"^cert:[\\/]+(?<location>CurrentUser|LocalMachine)(?:[\\/]+(?<store>[^\\/]+))?" +
        @"(?:[\\/]+(?<thumb>[0-9a-f]{40}))?[\\/]*$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    public CertificateStoreLocation(StoreLocation location, string storeName, string? thumbprint = null)
    {
        Location = location;
        StoreName = storeName;
        Thumbprint = thumbprint?.ToUpperInvariant();
    }

    public StoreLocation Location { get; }

    public string StoreName { get; }

    /// <summary>One certificate in the store, when the path names one.</summary>
    public string? Thumbprint { get; }

    public static bool IsStorePath(string path) =>
        path.StartsWith("cert:", StringComparison.OrdinalIgnoreCase);

    /// <exception cref="StitchMtlsException"><c>CertStoreLocationInvalid</c>.</exception>
    public static CertificateStoreLocation Parse(string path)
    {
        Match match = s_path.Match(path.Trim());
        if (!match.Success)
        {
            throw new StitchMtlsException("CertStoreLocationInvalid", FailureCategory.InvalidArgument,
                $"The store location '{path}' is not valid. Use Cert:\\CurrentUser\\My or Cert:\\LocalMachine\\My, " +
                "optionally followed by a thumbprint of 40 hexadecimal digits.", path);
        }

        StoreLocation location = Enum.Parse<StoreLocation>(match.Groups["location"].Value, ignoreCase: true);
        string store = match.Groups["store"].Success ? match.Groups["store"].Value : "My";
        string? thumbprint = match.Groups["thumb"].Success ? match.Groups["thumb"].Value : null;
        return new CertificateStoreLocation(location, store, thumbprint);
    }

    /// <summary>The store itself, without the thumbprint, as PowerShell writes it.</summary>
    public string StorePath => $"Cert:\\{Location}\\{StoreName}";

    public override string ToString() => Thumbprint is null ? StorePath : $"{StorePath}\\{Thumbprint}";
}

/// <summary>
/// Reads and removes certificates in a certificate store. Every store access of the module goes through here,
/// so the store's platform differences are handled once.
/// </summary>
public static class CertificateStore
{
    /// <summary>The certificates at <paramref name="location"/>: the whole store, or the one it names.</summary>
    /// <exception cref="StitchMtlsException">
    /// <c>CertStoreNotFound</c>, <c>PlatformNotSupported</c> or <c>CertificateNotFound</c>.
    /// </exception>
    public static IReadOnlyList<X509Certificate2> Read(CertificateStoreLocation location)
    {
        using X509Store store = Open(location, OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        List<X509Certificate2> certificates = store.Certificates.Cast<X509Certificate2>()
            .Where(certificate => location.Thumbprint is null
                || string.Equals(certificate.Thumbprint, location.Thumbprint, StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (location.Thumbprint is not null && certificates.Count == 0)
        {
            throw NotFound(location, location.Thumbprint);
        }

        return certificates;
    }

    /// <summary>Removes the certificate with <paramref name="thumbprint"/> and returns it.</summary>
    /// <remarks>
    /// The private key goes with the entry: .NET's store on Linux and macOS keeps certificate and key in one
    /// PKCS#12 file per certificate and deletes that file; on Windows a persisted key is deleted through
    /// <see cref="Platform.StoreKeyRemoval"/>.
    /// </remarks>
    public static X509Certificate2 Remove(CertificateStoreLocation location, string thumbprint)
    {
        using X509Store store = Open(location, OpenFlags.ReadWrite | OpenFlags.OpenExistingOnly);
        X509Certificate2? certificate = store.Certificates.Cast<X509Certificate2>()
            .FirstOrDefault(c => string.Equals(c.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase));
        if (certificate is null)
        {
            throw NotFound(location, thumbprint);
        }

        Platform.StoreKeyRemoval.DeletePersistedKey(certificate, location);
        try
        {
            store.Remove(certificate);
        }
        catch (CryptographicException ex)
        {
            throw new StitchMtlsException("CertStoreAccessDenied", FailureCategory.PermissionDenied,
                $"Cannot remove {thumbprint} from {location.StorePath}: {ex.Message}", location.ToString(), ex);
        }

        return certificate;
    }

    private static X509Store Open(CertificateStoreLocation location, OpenFlags flags)
    {
        var store = new X509Store(location.StoreName, location.Location);
        try
        {
            store.Open(flags);
            return store;
        }
        catch (CryptographicException ex) when (location.Location == StoreLocation.LocalMachine
            && !OperatingSystem.IsWindows())
        {
            store.Dispose();
            throw new StitchMtlsException("PlatformNotSupported", FailureCategory.NotImplemented,
                $"{location.StorePath} cannot be used on this system: .NET offers LocalMachine stores outside " +
                "Windows only for Root and CertificateAuthority, read-only. Use Cert:\\CurrentUser\\My or files.",
                location.ToString(), ex);
        }
        catch (CryptographicException ex)
        {
            store.Dispose();
            throw new StitchMtlsException("CertStoreNotFound", FailureCategory.ObjectNotFound,
                $"Cannot open the store {location.StorePath}: {ex.Message}", location.ToString(), ex);
        }
    }

    private static StitchMtlsException NotFound(CertificateStoreLocation location, string thumbprint) =>
        new("CertificateNotFound", FailureCategory.ObjectNotFound,
            $"Cannot find a certificate with thumbprint {thumbprint} in {location.StorePath}.", location.ToString());
}
