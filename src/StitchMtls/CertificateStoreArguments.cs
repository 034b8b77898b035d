using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using StitchMtls.Store;

namespace StitchMtls.Commands;

/// <summary>
/// Lets a parameter of type X509Certificate2 take a <c>Cert:\CurrentUser\My\&lt;thumbprint&gt;</c> path as well,
/// on every platform: PowerShell on Linux and macOS has no Cert: drive to resolve it, so the path is read here
/// and the certificate fetched from .NET's store of that name.
/// </summary>
public sealed class CertificateStorePathTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        if (value is not string text || !CertificateStorePath.LooksLikeStorePath(text))
        {
            return inputData;
        }

        try
        {
            CertificateStorePath path = CertificateStorePath.Parse(text);
            if (path.Thumbprint is null)
            {
                throw new ArgumentTransformationMetadataException(
                    $"'{text}' names a certificate store, not a certificate. Add the thumbprint " +
                    $"('{path}\\<thumbprint>'), or use -CommonName to pick the newest valid certificate by name.");
            }

            return StoreCertificates.FindByThumbprint(path.Store, path.Thumbprint);
        }
        catch (StitchMtlsException ex)
        {
            throw new ArgumentTransformationMetadataException(ex.Message, ex);
        }
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
