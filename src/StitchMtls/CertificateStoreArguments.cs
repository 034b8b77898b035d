using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Security.Cryptography.X509Certificates;
using StitchMtls.Store;

namespace StitchMtls.Commands;

/// <summary>
/// Lets a parameter of type X509Certificate2 take a <c>Cert:\CurrentUser\My\&lt;thumbprint&gt;</c> path as well,
/// on every platform (PowerShell on Linux and macOS has no Cert: drive). The path is only carried here, as a
/// <see cref="CertificateStorePathReference"/>; the cmdlet resolves it, so a missing certificate or a bad path
/// keeps its own ErrorId (<c>CertificateNotFound</c>, <c>CertStorePathInvalid</c>, ...) instead of becoming a
/// parameter-binding error.
/// </summary>
public sealed class CertificateStorePathTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        return value is string text && CertificateStorePath.LooksLikeStorePath(text)
            ? new CertificateStorePathReference(text)
            : inputData;
    }
}

/// <summary>
/// A <c>Cert:\</c> path given where a certificate is expected, not yet looked up. It is an X509Certificate2 only
/// so that parameter binding accepts it; it holds no certificate and is never used as one.
/// </summary>
public sealed class CertificateStorePathReference : X509Certificate2
{
#pragma warning disable SYSLIB0026 // The empty certificate is a placeholder the cmdlet replaces before any use.
    internal CertificateStorePathReference(string path)
        : base()
#pragma warning restore SYSLIB0026
    {
        Path = path;
    }

    /// <summary>The path as the user wrote it.</summary>
    public string Path { get; }

    /// <summary>The certificate the path names, from a personal store (<c>My</c>).</summary>
    /// <exception cref="StitchMtlsException">
    /// <c>CertStorePathInvalid</c>, <c>ThumbprintInvalid</c>, <c>CertificateNotFound</c> or
    /// <c>PlatformNotSupported</c>.
    /// </exception>
    public X509Certificate2 Resolve()
    {
        CertificateStorePath path = CertificateStorePath.Parse(Path);
        if (path.Thumbprint is null)
        {
            throw new StitchMtlsException("CertStorePathInvalid", FailureCategory.InvalidArgument,
                $"'{Path}' names a certificate store, not a certificate. Add the thumbprint " +
                $"('{path.Store}\\<thumbprint>'), or use -CommonName to pick the newest valid certificate by name.",
                Path);
        }

        if (!path.IsPersonalStore)
        {
            throw new StitchMtlsException("CertStorePathInvalid", FailureCategory.InvalidArgument,
                $"'{Path}' is in the '{path.StoreName}' store. A client certificate with its key is read from " +
                $"{CertificateStorePath.CurrentUserMy} or Cert:\\LocalMachine\\My only.", Path);
        }

        return StoreCertificates.FindByThumbprint(path.Store, path.Thumbprint);
    }
}

/// <summary>Offers the two personal stores a Stitch client certificate lives in.</summary>
public sealed class CertStoreLocationCompleter : IArgumentCompleter
{
    private static readonly string[] s_locations = { @"Cert:\CurrentUser\My", @"Cert:\LocalMachine\My" };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = wordToComplete.Trim('\'', '"');
        return s_locations
            .Where(location => location.StartsWith(typed, System.StringComparison.OrdinalIgnoreCase))
            .Select(location => new CompletionResult($"'{location}'", location, CompletionResultType.ParameterValue,
                location));
    }
}
