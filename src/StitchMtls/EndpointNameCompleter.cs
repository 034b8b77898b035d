using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace StitchMtls.Commands;

/// <summary>Completes -Endpoint and -Name with the documented endpoint names.</summary>
public sealed class EndpointNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        return StitchEndpoint.Documented
            .Where(endpoint => endpoint.Name.StartsWith(wordToComplete ?? string.Empty,
                StringComparison.OrdinalIgnoreCase))
            .Select(endpoint => new CompletionResult(endpoint.Name, endpoint.Name, CompletionResultType.ParameterValue,
                endpoint.MtlsUri.ToString()));
    }
}
