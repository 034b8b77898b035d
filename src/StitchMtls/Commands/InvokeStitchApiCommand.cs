using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net.Http;
using System.Text.Json;

namespace StitchMtls.Commands;

/// <summary>Calls Stitch's GraphQL API, or a REST path, over mTLS with a token it gets and renews itself.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "StitchApi", DefaultParameterSetName = CertificateSet)]
[OutputType(typeof(PSObject))]
public sealed class InvokeStitchApiCommand : StitchApiCmdlet
{
    private const string TokenSet = "Token";

    /// <summary>The GraphQL query or mutation, sent to /graphql.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Query { get; set; }

    [Parameter]
    public Hashtable? Variables { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OperationName { get; set; }

    /// <summary>The HTTP method of a REST call.</summary>
    [Parameter]
    [ValidateSet("GET", "POST", "PUT", "PATCH", "DELETE")]
    public string Method { get; set; } = "GET";

    /// <summary>The REST path on the API host, from the root: /v2/...</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The REST request body: a JSON string, or an object sent as JSON.</summary>
    [Parameter]
    public object? Body { get; set; }

    /// <summary>A token from Get-StitchAccessToken; it brings its certificate, connection and credentials.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TokenSet, ValueFromPipeline = true)]
    public StitchAccessToken Token { get; set; } = null!;

    /// <summary>The API host: Api, or an https URI of a test gateway.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string Endpoint { get; set; } = "Api";

    /// <summary>The host with the token endpoint; Secure for Api, else the -Endpoint host itself.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string? TokenEndpoint { get; set; }

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if ((Query is null) == (Path is null))
        {
            ThrowFailure(new StitchMtlsException("QueryOrPathRequired", FailureCategory.InvalidArgument,
                "Give either -Query (GraphQL) or -Path (REST), not both and not neither."));
        }

        if (Query is not null && (Body is not null || MyInvocation.BoundParameters.ContainsKey(nameof(Method))))
        {
            ThrowFailure(new StitchMtlsException("ParameterConflict", FailureCategory.InvalidArgument,
                "-Method and -Body are for REST calls with -Path; a GraphQL -Query is always a POST to /graphql."));
        }

        if (Path is not null && (Variables is not null || OperationName is not null))
        {
            ThrowFailure(new StitchMtlsException("ParameterConflict", FailureCategory.InvalidArgument,
                "-Variables and -OperationName are for GraphQL calls with -Query; send REST data with -Body."));
        }
    }

    protected override void ProcessRecord()
    {
        try
        {
            StitchEndpoint api = StitchEndpoint.Resolve(Endpoint);
            AccessTokenProvider provider;
            StitchAccessToken? token = null;
            if (ParameterSetName == TokenSet)
            {
                RefuseConnectionParametersWithToken();
                provider = Token.Provider;
                token = Token;
            }
            else
            {
                StitchEndpoint tokenEndpoint = StitchEndpoint.Resolve(TokenEndpoint ?? DefaultTokenEndpoint(api));
                provider = CreateTokenProvider(tokenEndpoint, OpenPool());
            }

            var timeout = TimeSpan.FromSeconds(TimeoutSec);
            if (Query is not null)
            {
                var request = new GraphQLRequest
                {
                    Query = Query,
                    OperationName = OperationName,
                    Variables = Variables is null
                        ? null
                        : (Dictionary<string, object?>)JsonObjects.ToPlain(Variables, "-Variables")!,
                };
                GraphQLResponse response = RunWithPipelineLog((log, cancel) =>
                    new StitchApiClient(provider, api, timeout, log, token).QueryAsync(request, cancel));
                WriteGraphQL(response);
            }
            else
            {
                string? body = Body switch
                {
                    null => null,
                    string text => text,
                    PSObject { BaseObject: string text } => text,
                    _ => JsonObjects.Serialize(Body, "-Body"),
                };
                var method = new HttpMethod(Method.ToUpperInvariant());
                RestResponse response = RunWithPipelineLog((log, cancel) =>
                    new StitchApiClient(provider, api, timeout, log, token).SendAsync(method, Path!, body, cancel));
                if (response.Json is { } json)
                {
                    WriteObject(JsonObjects.ToPowerShell(json), enumerateCollection: true);
                }
                else if (response.Text.Length > 0)
                {
                    WriteObject(response.Text);
                }
            }
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
        }
    }

    /// <summary>
    /// A piped token brings its certificate, connection settings and credentials; other values for them would be
    /// silently ignored, so they are refused.
    /// </summary>
    private void RefuseConnectionParametersWithToken()
    {
        string[] ignored =
        {
            nameof(Credential), nameof(ClientId), nameof(ClientAssertionCertificate), nameof(Scope),
            nameof(TokenEndpoint), nameof(ServerCertificateAuthority), nameof(Proxy), nameof(ProxyCredential),
            nameof(NoProxy),
        };
        string? given = Array.Find(ignored, name => MyInvocation.BoundParameters.ContainsKey(name));
        if (given is not null)
        {
            ThrowFailure(new StitchMtlsException("ParameterConflict", FailureCategory.InvalidArgument, $"-{given} " +
                "cannot be used with a token from Get-StitchAccessToken (-Token): the token brings its certificate, " +
                $"connection settings and credentials. Give -{given} to Get-StitchAccessToken instead."));
        }
    }

    /// <summary>Stitch's API takes tokens from the Secure host; a test gateway serves both on one host.</summary>
    private static string DefaultTokenEndpoint(StitchEndpoint api) =>
        api.IsDocumented ? "Secure" : api.MtlsUri.ToString();

    private void WriteGraphQL(GraphQLResponse response)
    {
        if (response.Data is { } data)
        {
            WriteObject(JsonObjects.ToPowerShell(data));
        }

        foreach (GraphQLError error in response.Errors)
        {
            WriteFailure(error.ToException());
        }
    }
}
