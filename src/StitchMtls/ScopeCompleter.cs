using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace StitchMtls.Commands;

/// <summary>Completes -Scope with Stitch's client scopes; any other value is accepted too.</summary>
public sealed class ScopeCompleter : IArgumentCompleter
{
    /// <summary>The client-credentials scopes Stitch documents; a client may be granted others.</summary>
    public static readonly IReadOnlyList<string> KnownScopes = new[]
    {
        "client_paymentrequest",
        "client_bankaccountverification",
        "client_refund",
        "client_disbursement",
        "client_paymentauthorizationrequest",
        "client_recurringpaymentconsentrequest",
        "accounts",
        "balances",
        "transactions",
    };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = (wordToComplete ?? string.Empty).Trim('\'', '"');
        return KnownScopes
            .Where(scope => scope.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
            .Select(scope => new CompletionResult(scope, scope, CompletionResultType.ParameterValue, scope));
    }
}
