using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace StitchMtls;

/// <summary>Where Import-StitchChain reads from and writes to.</summary>
public sealed class ChainImportRequest
{
    public required IReadOnlyList<string> CertificatePaths { get; init; }

    public required string KeyPath { get; init; }

    /// <summary>Folder for the chain file; the key's folder when null.</summary>
    public string? Destination { get; init; }

    public string? PfxPath { get; init; }

    public string ChainPath
    {
        get
        {
            string folder = Destination ?? Path.GetDirectoryName(Path.GetFullPath(KeyPath))!;
            return Path.GetFullPath(Path.Combine(folder, Path.GetFileNameWithoutExtension(KeyPath) + "-chain.pem"));
        }
    }
}

/// <summary>
/// Receives the signed chain from Stitch: finds the leaf by the private key, orders the chain, validates it
/// and writes the chain PEM (and optionally a PKCS#12), all or nothing.
/// </summary>
public sealed class ChainImport : IDisposable
{
    private readonly AsymmetricAlgorithm _key;

    private ChainImport(ChainImportRequest request, AsymmetricAlgorithm key, ClientChain chain)
    {
        Request = request;
        _key = key;
        Chain = chain;
    }

    public ChainImportRequest Request { get; }

    public ClientChain Chain { get; }

    /// <summary>The private key the chain was matched to, for a connection test before anything is switched.</summary>
    internal AsymmetricAlgorithm Key => _key;

    /// <summary>Reads and validates everything; writes nothing.</summary>
    public static ChainImport Prepare(ChainImportRequest request, ReadOnlySpan<char> keyPassword, DateTime nowUtc,
        IOperationLog log)
    {
        List<X509Certificate2> supplied = ReadCertificates(request.CertificatePaths, log);
        AsymmetricAlgorithm key = PrivateKeyFile.Load(request.KeyPath, keyPassword);
        try
        {
            ClientChain chain = AssembleAndValidate(supplied, key, request.KeyPath, nowUtc, log);
            return new ChainImport(request, key, chain);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    internal static List<X509Certificate2> ReadCertificates(IReadOnlyList<string> paths, IOperationLog log)
    {
        if (paths.Count == 0)
        {
            throw new StitchMtlsException("CertificateFileNotFound", FailureCategory.ObjectNotFound,
                "No certificate file was found. Give the chain Stitch sent with -Path (one file, or several).", null);
        }

        var supplied = new List<X509Certificate2>();
        foreach (string path in paths)
        {
            IReadOnlyList<X509Certificate2> certificates = CertificateFile.Load(path);
            log.Verbose($"Read {certificates.Count} certificate(s) from '{path}'.");
            supplied.AddRange(certificates);
        }

        return supplied;
    }

    /// <summary>Finds the leaf for the key, orders and validates the chain, and warns about what is odd.</summary>
    internal static ClientChain AssembleAndValidate(IReadOnlyList<X509Certificate2> supplied,
        AsymmetricAlgorithm key, string keySource, DateTime nowUtc, IOperationLog log)
    {
        ClientChain chain = ClientChain.Assemble(supplied, key, keySource);
        log.Verbose($"Building chain for {chain.Leaf.Subject} ({chain.Issuers.Count + 1} certificates).");
        ChainValidator.Validate(chain, nowUtc);
        if (chain.WasReordered)
        {
            log.Warning("The certificates were not in the order leaf, intermediate, root; they are written " +
                "in that order: " + string.Join(" -> ", chain.InOrder.Select(c => $"'{c.Subject}'")) + ".");
        }

        foreach (X509Certificate2 extra in chain.Unused)
        {
            log.Warning($"The certificate '{extra.Subject}' is not part of this chain and is not written.");
        }

        log.Verbose($"The chain builds to '{chain.Root!.Subject}' as the only trust anchor.");
        return chain;
    }

    public IEnumerable<string> Destinations =>
        Request.PfxPath is null ? new[] { Request.ChainPath } : new[] { Request.ChainPath, Request.PfxPath };

    public StitchChain Write(ReadOnlySpan<char> pfxPassword, bool overwrite, DateTime nowUtc, IOperationLog log)
    {
        var files = new FileSet();
        files.AddPublic(Request.ChainPath, Encoding.ASCII.GetBytes(CertificateFile.ToPem(Chain.InOrder)));
        if (Request.PfxPath is not null)
        {
            byte[] pfx = Pkcs12File.Build(Chain, _key, pfxPassword);
            files.AddPrivate(Request.PfxPath, pfx);
        }

        log.Verbose("Writing " + string.Join(" and ", files.Paths.Select(path => $"'{path}'")) + ".");
        files.Commit(overwrite);

        X509Certificate2 leaf = Chain.Leaf;
        return new StitchChain
        {
            Subject = leaf.Subject,
            CommonName = leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: false),
            Issuer = leaf.Issuer,
            Thumbprint = leaf.Thumbprint,
            NotBefore = leaf.NotBefore.ToUniversalTime(),
            NotAfter = leaf.NotAfter.ToUniversalTime(),
            DaysRemaining = ExpiryCalculator.DaysRemaining(leaf.NotAfter.ToUniversalTime(), nowUtc),
            ChainPath = Request.ChainPath,
            KeyPath = Path.GetFullPath(Request.KeyPath),
            PfxPath = Request.PfxPath is null ? null : Path.GetFullPath(Request.PfxPath),
        };
    }

    public void Dispose() => _key.Dispose();
}
