using System;
using System.IO;
using System.Runtime.Versioning;
using System.Security.AccessControl;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Principal;
using StitchMtls.Store;

namespace StitchMtls.Platform;

/// <summary>
/// What differs between platforms for keys and certificates in a certificate store: where a store key is
/// created (a persisted CNG key on Windows, a file-held key elsewhere), who may open the LocalMachine stores,
/// how a certificate is bound to its key so a new process still finds it, friendly names, and key ACLs.
/// </summary>
/// <remarks>
/// Everything Windows-specific about stores lives in this file, beside <see cref="PrivateFile"/> and
/// <see cref="TlsPlatform"/>. On Linux and macOS .NET keeps CurrentUser stores as files under the user's home
/// (~/.dotnet/corefx/cryptography/x509stores) and LocalMachine stores are read-only views of the system CAs.
/// </remarks>
internal static class StorePlatform
{
    public const string SoftwareKeyStorageProvider = "Microsoft Software Key Storage Provider";

    // CNG's NCRYPT_SECURITY_DESCR_PROPERTY, read and written with DACL_SECURITY_INFORMATION.
    private const string SecurityDescriptorProperty = "Security Descr";
    private const CngPropertyOptions DaclSecurityInformation = (CngPropertyOptions)0x4;
    private const int GenericRead = unchecked((int)0x80000000);

    public static bool IsWindows => OperatingSystem.IsWindows();

    /// <summary>The account this process runs as, the way an administrator would type it.</summary>
    public static string CurrentAccount
    {
        get
        {
            if (OperatingSystem.IsWindows())
            {
                using WindowsIdentity identity = WindowsIdentity.GetCurrent();
                return identity.Name;
            }

            return Environment.UserName;
        }
    }

    /// <summary>Opens a store, refusing what the platform cannot do before anything is touched.</summary>
    /// <exception cref="StitchMtlsException"><c>PlatformNotSupported</c> or <c>ElevationRequired</c>.</exception>
    public static X509Store Open(CertificateStorePath path, bool write)
    {
        EnsureSupported(path, write);
        var store = new X509Store(path.StoreName, path.Location);
        try
        {
            store.Open(write ? OpenFlags.ReadWrite : OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        }
        catch (CryptographicException ex) when (!write)
        {
            // A CurrentUser store nobody has written to yet does not exist: it is empty, not an error.
            store.Dispose();
            throw new StitchMtlsException("CertStoreNotFound", FailureCategory.ObjectNotFound,
                $"The certificate store '{path.Store}' does not exist or cannot be opened ({ex.Message}). " +
                "Import-StitchChain -CertStoreLocation creates it.", path.ToString(), ex);
        }
        catch (CryptographicException ex)
        {
            store.Dispose();
            throw new StitchMtlsException("CertStoreUnavailable", FailureCategory.PermissionDenied,
                $"The certificate store '{path.Store}' cannot be opened for writing: {ex.Message}", path.ToString(),
                ex);
        }

        return store;
    }

    /// <exception cref="StitchMtlsException"><c>PlatformNotSupported</c> or <c>ElevationRequired</c>.</exception>
    public static void EnsureSupported(CertificateStorePath path, bool write)
    {
        if (path.Location == StoreLocation.LocalMachine && !OperatingSystem.IsWindows())
        {
            throw new StitchMtlsException("PlatformNotSupported", FailureCategory.InvalidOperation,
                $"'{path.Store}' is a Windows store: on this platform .NET's LocalMachine stores are read-only " +
                "views of the system's CA bundle and cannot hold a client certificate or key. Use " +
                $"{CertificateStorePath.CurrentUserMy}, or key and chain files.", path.ToString());
        }

        if (write && path.Location == StoreLocation.LocalMachine && OperatingSystem.IsWindows() && !IsElevated())
        {
            throw new StitchMtlsException("ElevationRequired", FailureCategory.PermissionDenied,
                $"Writing to '{path.Store}' needs an elevated session (Run as administrator), because the " +
                $"machine's stores and machine keys belong to Administrators. {CurrentAccount} is not elevated. " +
                $"Start PowerShell as administrator, or use {CertificateStorePath.CurrentUserMy}.", path.ToString());
        }
    }

    /// <summary>
    /// Creates the RSA key for a store certificate: a persisted CNG key on Windows, named
    /// <paramref name="keyName"/>; an in-memory key elsewhere, which the caller keeps in a pending key file.
    /// </summary>
    public static RSA CreateStoreKey(StoreLocation location, int keySize, bool exportable, string? provider,
        string keyName)
    {
        if (!OperatingSystem.IsWindows())
        {
            if (provider is not null)
            {
                throw new StitchMtlsException("PlatformNotSupported", FailureCategory.InvalidOperation,
                    $"-KeyStorageProvider '{provider}' names a Windows CNG provider; this platform has none. Leave " +
                    "it out: the key is kept in a pending key file readable by you only.", provider);
            }

            return RSA.Create(keySize);
        }

        return CreateCngKey(location, keySize, exportable, provider ?? SoftwareKeyStorageProvider, keyName);
    }

    /// <summary>Opens a persisted CNG key by name (Windows); null when it no longer exists.</summary>
    public static RSA? OpenCngKey(string keyName, string provider, StoreLocation location)
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new StitchMtlsException("PlatformNotSupported", FailureCategory.InvalidOperation,
                $"The pending key '{keyName}' is a Windows CNG key; it cannot be opened on this platform.", keyName);
        }

        var options = location == StoreLocation.LocalMachine ? CngKeyOpenOptions.MachineKey : CngKeyOpenOptions.None;
        if (!CngKey.Exists(keyName, new CngProvider(provider), options))
        {
            return null;
        }

        return new RSACng(CngKey.Open(keyName, new CngProvider(provider), options));
    }

    /// <summary>
    /// The leaf bound to its key in the form the store keeps across processes: on Windows the certificate points
    /// at a persisted key container (a key read from a file is persisted through a PKCS#12 import, because an
    /// ephemeral key fails in SChannel with 0x8009030E); elsewhere the store saves the key with the certificate.
    /// </summary>
    public static X509Certificate2 BindKey(X509Certificate2 leaf, AsymmetricAlgorithm key, StoreLocation location)
    {
        if (OperatingSystem.IsWindows() && key is RSACng { Key.IsEphemeral: false } persisted)
        {
            return leaf.CopyWithPrivateKey(persisted);
        }

        X509Certificate2 withKey = key switch
        {
            RSA rsa => leaf.CopyWithPrivateKey(rsa),
            ECDsa ec => leaf.CopyWithPrivateKey(ec),
            _ => throw new StitchMtlsException("KeyAlgorithmUnsupported", FailureCategory.InvalidData,
                $"The private key algorithm '{key.GetType().Name}' is not supported; use RSA or ECDSA.", null),
        };
        if (!OperatingSystem.IsWindows())
        {
            return withKey;
        }

        using (withKey)
        {
            byte[] pfx = withKey.Export(X509ContentType.Pkcs12);
            try
            {
                X509KeyStorageFlags scope = location == StoreLocation.LocalMachine
                    ? X509KeyStorageFlags.MachineKeySet
                    : X509KeyStorageFlags.UserKeySet;
                return new X509Certificate2(pfx, (string?)null, X509KeyStorageFlags.PersistKeySet | scope);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pfx);
            }
        }
    }

    /// <summary>Sets the name MMC and Get-ChildItem Cert:\ show; .NET stores elsewhere keep no friendly name.</summary>
    public static bool TrySetFriendlyName(X509Certificate2 certificate, string friendlyName)
    {
        if (!OperatingSystem.IsWindows())
        {
            return false;
        }

        certificate.FriendlyName = friendlyName;
        return true;
    }

    /// <summary>Refuses Grant-StitchKeyAccess where the platform has no key access lists.</summary>
    /// <exception cref="StitchMtlsException"><c>PlatformNotSupported</c>.</exception>
    public static void EnsureKeyAccessSupported()
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new StitchMtlsException("PlatformNotSupported", FailureCategory.InvalidOperation,
                "Grant-StitchKeyAccess changes Windows key permissions. On this platform a store key is a file in " +
                "the user's home, readable by that user only; run the task as that user instead.", null);
        }
    }

    /// <summary>Gives <paramref name="account"/> read access to the certificate's private key (Windows).</summary>
    /// <returns>The kind of key changed: <c>CNG</c> or <c>CSP</c>.</returns>
    public static string GrantKeyAccess(X509Certificate2 certificate, string account, StoreLocation location)
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new StitchMtlsException("PlatformNotSupported", FailureCategory.InvalidOperation,
                "Key access lists are a Windows feature. On this platform a store key is a file in the user's " +
                "home, readable by that user only; run the task as that user instead.", certificate.Thumbprint);
        }

        SecurityIdentifier sid = ResolveAccount(account);
        try
        {
            using AsymmetricAlgorithm? key = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey()
                ?? certificate.GetECDsaPrivateKey();
            switch (key)
            {
                case RSACng rsaCng:
                    GrantCng(rsaCng.Key, sid);
                    return "CNG";
                case ECDsaCng ecCng:
                    GrantCng(ecCng.Key, sid);
                    return "CNG";
                case RSACryptoServiceProvider csp:
                    GrantCsp(csp.CspKeyContainerInfo, sid, location);
                    return "CSP";
                default:
                    throw new StitchMtlsException("PrivateKeyMissing", FailureCategory.ObjectNotFound,
                        $"The certificate '{certificate.Subject}' ({certificate.Thumbprint}) has no private key in " +
                        "this store to grant access to.", certificate.Thumbprint);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or UnauthorizedAccessException)
        {
            throw new StitchMtlsException("KeyAccessChangeDenied", FailureCategory.PermissionDenied,
                $"{CurrentAccount} cannot change who may use the key of {certificate.Thumbprint}: {ex.Message} " +
                "Run PowerShell as administrator (machine keys) or as the key's owner.", certificate.Thumbprint, ex);
        }
    }

    [SupportedOSPlatform("windows")]
    private static bool IsElevated()
    {
        using WindowsIdentity identity = WindowsIdentity.GetCurrent();
        return new WindowsPrincipal(identity).IsInRole(WindowsBuiltInRole.Administrator);
    }

    [SupportedOSPlatform("windows")]
    private static RSA CreateCngKey(StoreLocation location, int keySize, bool exportable, string provider,
        string keyName)
    {
        var parameters = new CngKeyCreationParameters
        {
            Provider = new CngProvider(provider),
            ExportPolicy = exportable ? CngExportPolicies.AllowExport : CngExportPolicies.None,
            KeyCreationOptions = location == StoreLocation.LocalMachine
                ? CngKeyCreationOptions.MachineKey
                : CngKeyCreationOptions.None,
            KeyUsage = CngKeyUsages.AllUsages,
        };
        parameters.Parameters.Add(new CngProperty("Length", BitConverter.GetBytes(keySize), CngPropertyOptions.None));
        try
        {
            return new RSACng(CngKey.Create(CngAlgorithm.Rsa, keyName, parameters));
        }
        catch (CryptographicException ex)
        {
            // The TPM provider, for one, offers RSA 2048 only and is absent on machines without a TPM 2.0.
            throw new StitchMtlsException("KeyCreationFailed", FailureCategory.InvalidOperation,
                $"The key storage provider '{provider}' could not create an RSA-{keySize} key: {ex.Message} The " +
                "Microsoft Platform Crypto Provider (TPM) needs a TPM 2.0 and supports -KeySize 2048 only.",
                provider, ex);
        }
    }

    [SupportedOSPlatform("windows")]
    private static SecurityIdentifier ResolveAccount(string account)
    {
        try
        {
            return (SecurityIdentifier)new NTAccount(account).Translate(typeof(SecurityIdentifier));
        }
        catch (IdentityNotMappedException ex)
        {
            throw new StitchMtlsException("AccountNotFound", FailureCategory.ObjectNotFound,
                $"Cannot find the account '{account}'. Give it as DOMAIN\\name, 'NT AUTHORITY\\NETWORK SERVICE' or " +
                "a gMSA as DOMAIN\\name$.", account, ex);
        }
    }

    [SupportedOSPlatform("windows")]
    private static void GrantCng(CngKey key, SecurityIdentifier sid)
    {
        CngProperty property = key.GetProperty(SecurityDescriptorProperty, DaclSecurityInformation);
        var descriptor = new CommonSecurityDescriptor(false, false, new RawSecurityDescriptor(property.GetValue()!, 0));
        descriptor.DiscretionaryAcl ??= new DiscretionaryAcl(false, false, 1);
        descriptor.DiscretionaryAcl.AddAccess(AccessControlType.Allow, sid, GenericRead, InheritanceFlags.None,
            PropagationFlags.None);
        var binary = new byte[descriptor.BinaryLength];
        descriptor.GetBinaryForm(binary, 0);
        key.SetProperty(new CngProperty(SecurityDescriptorProperty, binary, DaclSecurityInformation));
    }

    [SupportedOSPlatform("windows")]
    private static void GrantCsp(CspKeyContainerInfo container, SecurityIdentifier sid, StoreLocation location)
    {
        string folder = location == StoreLocation.LocalMachine
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData),
                @"Microsoft\Crypto\RSA\MachineKeys")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData),
                @"Microsoft\Crypto\RSA", WindowsIdentity.GetCurrent().User!.Value);
        var file = new FileInfo(Path.Combine(folder, container.UniqueKeyContainerName));
        FileSecurity security = file.GetAccessControl();
        security.AddAccessRule(new FileSystemAccessRule(sid, FileSystemRights.Read, AccessControlType.Allow));
        file.SetAccessControl(security);
    }
}
