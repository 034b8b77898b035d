using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Platform;

namespace StitchMtls.Store;

/// <summary>What Import-StitchChain -CertStoreLocation reads and where it puts the result.</summary>
public sealed class StoreChainImportRequest
{
    public required IReadOnlyList<string> CertificatePaths { get; init; }

    public required CertificateStorePath Location { get; init; }

    /// <summary>A key file to bind; when null, the pending key New-StitchCsr -CertStoreLocation made.</summary>
    public string? KeyPath { get; init; }

    /// <summary>
    /// Add the leaf again even when the store already holds it with a key (re-binding it to the key from
    /// <see cref="KeyPath"/> or a pending key); otherwise such an import returns the existing entry.
    /// </summary>
    public bool Force { get; init; }

    /// <summary>Where pending keys wait; the default folder for the location when null.</summary>
    public PendingKeyFolder? PendingKeys { get; init; }

    /// <summary>
    /// Keep the pending key entry after the write, so the import can be taken back without losing the key: a
    /// renewal removes it only once the new certificate passed its test.
    /// </summary>
    public bool KeepPendingKey { get; init; }
}

/// <summary>
/// Puts the signed chain into a certificate store: the leaf bound to its key in the personal store, so that
/// HasPrivateKey is true in any later process, and the intermediates in the CA store of the same location,
/// because Windows sends only intermediates it can find there. The private CA's root never goes to the trusted
/// roots: the client does not need to trust it, and a machine-wide trust anchor would be a risk.
/// </summary>
public sealed class StoreChainImport : IDisposable
{
    private readonly AsymmetricAlgorithm _key;
    private readonly PendingKeyFolder _pending;
    private readonly string? _pendingId;

    private StoreChainImport(StoreChainImportRequest request, ClientChain chain, AsymmetricAlgorithm key,
        PendingKeyFolder pending, string? pendingId)
    {
        Request = request;
        Chain = chain;
        _key = key;
        _pending = pending;
        _pendingId = pendingId;
    }

    public StoreChainImportRequest Request { get; }

    public ClientChain Chain { get; }

    /// <summary>The name MMC and Get-ChildItem Cert:\ show for the certificate.</summary>
    public string FriendlyName => FriendlyNameFor(Chain.Leaf);

    /// <summary>Where the key comes from, for messages: the key file, or the pending key's entry.</summary>
    public string KeySource { get; private set; } = string.Empty;

    public static string FriendlyNameFor(X509Certificate2 leaf) => string.Format(CultureInfo.InvariantCulture,
        "Stitch mTLS {0} (expires {1:yyyy-MM-dd})", StoreCertificates.CommonNameOf(leaf),
        leaf.NotAfter.ToUniversalTime());

    /// <summary>
    /// The entry a previous import of the same chain left: the leaf is already in the store with its private key.
    /// Importing twice (a retried runbook, an operator who is not sure) then reports that entry instead of
    /// failing to find a pending key the first import used up, and the same way with or without -KeyPath.
    /// </summary>
    /// <returns>The existing entry, or null when there is something to import (or <c>Force</c> is set).</returns>
    /// <exception cref="StitchMtlsException">
    /// <c>PlatformNotSupported</c>, <c>ElevationRequired</c>, or what reading the certificate files reports.
    /// </exception>
    public static StitchChain? FindAlreadyImported(StoreChainImportRequest request, DateTime nowUtc,
        IOperationLog log)
    {
        if (request.Force)
        {
            return null;
        }

        StorePlatform.EnsureSupported(request.Location, write: true);
        List<X509Certificate2> supplied = ChainImport.ReadCertificates(request.CertificatePaths, log);
        X509Certificate2? existing = FindWithKeyInStore(supplied, request.Location.Store);
        if (existing is null)
        {
            return null;
        }

        CertificateStorePath entry = request.Location.Store.WithThumbprint(existing.Thumbprint);
        log.Verbose($"'{existing.Subject}' ({existing.Thumbprint}) is already in '{request.Location.Store}' with " +
            "its private key; nothing was written. Add -Force to add it again with the key from -KeyPath.");
        return new StitchChain
        {
            Subject = existing.Subject,
            CommonName = StoreCertificates.CommonNameOf(existing),
            Issuer = existing.Issuer,
            Thumbprint = existing.Thumbprint,
            NotBefore = existing.NotBefore.ToUniversalTime(),
            NotAfter = existing.NotAfter.ToUniversalTime(),
            DaysRemaining = ExpiryCalculator.DaysRemaining(existing.NotAfter.ToUniversalTime(), nowUtc),
            StorePath = entry.ToString(),
            FriendlyName = string.IsNullOrEmpty(existing.FriendlyName) ? null : existing.FriendlyName,
        };
    }

    /// <summary>Reads and validates everything; changes no store.</summary>
    /// <exception cref="StitchMtlsException">
    /// <c>PlatformNotSupported</c>, <c>ElevationRequired</c>, <c>PendingKeyNotFound</c>, and whatever
    /// <see cref="ChainImport.Prepare"/> reports for the chain itself.
    /// </exception>
    public static StoreChainImport Prepare(StoreChainImportRequest request, ReadOnlySpan<char> keyPassword,
        DateTime nowUtc, IOperationLog log)
    {
        StorePlatform.EnsureSupported(request.Location, write: true);
        PendingKeyFolder pending = request.PendingKeys ?? PendingKeyFolder.For(request.Location.Location);
        List<X509Certificate2> supplied = ChainImport.ReadCertificates(request.CertificatePaths, log);

        string? pendingId = null;
        string keySource;
        AsymmetricAlgorithm? key;
        if (request.KeyPath is not null)
        {
            key = PrivateKeyFile.Load(request.KeyPath, keyPassword);
            keySource = request.KeyPath;
        }
        else
        {
            (key, pendingId) = FindPendingKey(supplied, pending, request.Location.Store, log);
            keySource = pending.Find(pendingId!)!;
        }

        try
        {
            ClientChain chain = ChainImport.AssembleAndValidate(supplied, key, keySource, nowUtc, log);
            return new StoreChainImport(request, chain, key, pending, pendingId) { KeySource = keySource };
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Adds the leaf with its key and the intermediates; removes the pending key once it is bound.</summary>
    public StitchChain Write(DateTime nowUtc, IOperationLog log)
    {
        CertificateStorePath personal = Request.Location.Store;
        X509Certificate2 leaf = Chain.Leaf;
        using X509Certificate2 bound = StorePlatform.BindKey(leaf, _key, personal.Location);
        // Only Windows stores keep a friendly name; elsewhere the output says none, rather than one never stored.
        bool named = StorePlatform.TrySetFriendlyName(bound, FriendlyName);

        log.Verbose($"Adding '{leaf.Subject}' with its private key to '{personal}'" +
            (named ? $" as '{FriendlyName}'." : "."));
        using (X509Store store = StorePlatform.Open(personal, write: true))
        {
            store.Add(bound);
        }

        CertificateStorePath intermediates = Request.Location.IntermediateStore;
        if (Chain.Intermediates.Count > 0)
        {
            log.Verbose($"Adding {Chain.Intermediates.Count} intermediate certificate(s) to '{intermediates}'; " +
                "the root stays out of the trusted roots.");
            using X509Store store = StorePlatform.Open(intermediates, write: true);
            foreach (X509Certificate2 intermediate in Chain.Intermediates)
            {
                using var publicOnly = new X509Certificate2(intermediate.RawData);
                store.Add(publicOnly);
            }
        }

        if (_pendingId is not null && !Request.KeepPendingKey)
        {
            log.Verbose($"The key is now held with its certificate; removing the pending key entry in " +
                $"'{_pending.Path}'.");
            _pending.Remove(_pendingId);
        }

        return new StitchChain
        {
            Subject = leaf.Subject,
            CommonName = StoreCertificates.CommonNameOf(leaf),
            Issuer = leaf.Issuer,
            Thumbprint = leaf.Thumbprint,
            NotBefore = leaf.NotBefore.ToUniversalTime(),
            NotAfter = leaf.NotAfter.ToUniversalTime(),
            DaysRemaining = ExpiryCalculator.DaysRemaining(leaf.NotAfter.ToUniversalTime(), nowUtc),
            StorePath = personal.WithThumbprint(leaf.Thumbprint).ToString(),
            FriendlyName = named ? FriendlyName : null,
            KeyPath = Request.KeyPath is null ? null : System.IO.Path.GetFullPath(Request.KeyPath),
        };
    }

    private static (AsymmetricAlgorithm Key, string Id) FindPendingKey(IReadOnlyList<X509Certificate2> supplied,
        PendingKeyFolder pending, CertificateStorePath store, IOperationLog log)
    {
        foreach (X509Certificate2 certificate in supplied.Where(c => !ClientChain.IsCertificateAuthority(c)))
        {
            string id = KeyIdentity.PublicKeySha256(KeyIdentity.SubjectPublicKeyInfo(certificate));
            AsymmetricAlgorithm? key = pending.TryOpen(id);
            if (key is not null)
            {
                log.Verbose($"Found the pending key for '{certificate.Subject}' (public key SHA-256 {id}).");
                return (key, id);
            }
        }

        X509Certificate2? imported = FindWithKeyInStore(supplied, store);
        if (imported is not null)
        {
            throw new StitchMtlsException("PendingKeyNotFound", FailureCategory.ObjectNotFound,
                $"'{imported.Subject}' ({imported.Thumbprint}) is already in '{store}' with its private key: the " +
                "pending key went into the store with it at the earlier import. To add it again with -Force, give " +
                "the key with -KeyPath; to keep the entry as it is, leave out -Force.", store.ToString());
        }

        throw new StitchMtlsException("PendingKeyNotFound", FailureCategory.ObjectNotFound,
            $"None of the supplied certificates belongs to a key that New-StitchCsr -CertStoreLocation made for " +
            $"this account (looked in '{pending.Path}'). Give the key file with -KeyPath, or import as the user " +
            "who ran New-StitchCsr.", pending.Path);
    }

    private static X509Certificate2? FindWithKeyInStore(IReadOnlyList<X509Certificate2> supplied,
        CertificateStorePath store)
    {
        IReadOnlyList<X509Certificate2> inStore;
        try
        {
            inStore = StoreCertificates.Read(store);
        }
        catch (StitchMtlsException ex) when (ex.ErrorId == "CertStoreNotFound")
        {
            return null;
        }

        HashSet<string> leaves = supplied.Where(c => !ClientChain.IsCertificateAuthority(c))
            .Select(c => c.Thumbprint)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        return inStore.FirstOrDefault(c => c.HasPrivateKey && leaves.Contains(c.Thumbprint));
    }

    public void Dispose() => _key.Dispose();
}
