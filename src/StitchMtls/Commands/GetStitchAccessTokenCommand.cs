using System;
using System.Management.Automation;

namespace StitchMtls.Commands;

/// <summary>Gets an access token from Stitch's token endpoint over mTLS, or the session's cached one.</summary>
[Cmdlet(VerbsCommon.Get, "StitchAccessToken", DefaultParameterSetName = CertificateSet)]
[OutputType(typeof(StitchAccessToken))]
public sealed class GetStitchAccessTokenCommand : StitchApiCmdlet
{
    /// <summary>The host with the token endpoint: Secure, or an https URI of a test gateway.</summary>
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string Endpoint { get; set; } = "Secure";

    /// <summary>Fetch a new token even when the session holds one that is still good.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            StitchEndpoint endpoint = StitchEndpoint.Resolve(Endpoint);
            MtlsConnectionPool pool = OpenPool();
            AccessTokenProvider provider = CreateTokenProvider(endpoint, pool);
            StitchAccessToken token = RunWithPipelineLog((log, cancel) =>
                provider.GetAsync(Force, TimeSpan.FromSeconds(TimeoutSec), log, cancel));
            WriteObject(token);
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
        }
    }
}
