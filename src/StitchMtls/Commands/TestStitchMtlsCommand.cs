using System;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Commands;

/// <summary>Tests an mTLS connection to Stitch and explains a failure.</summary>
[Cmdlet(VerbsDiagnostic.Test, "StitchMtls", DefaultParameterSetName = CertificateSet)]
[OutputType(typeof(StitchMtlsTestResult), typeof(bool))]
public sealed class TestStitchMtlsCommand : ClientConnectionCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string[] Endpoint { get; set; } = { "Secure" };

    /// <summary>client_id as the user name and client_secret as the password.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter]
    public string[] Scope { get; set; } = Array.Empty<string>();

    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>
    /// Connect even when the pre-flight check finds the certificate unusable, to see the gateway's answer.
    /// </summary>
    [Parameter]
    public SwitchParameter SkipPreFlight { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            X509Certificate2Collection? authorities = LoadServerAuthorities();
            using ClientCertificate certificate = LoadClientCertificate();
            ClientCredential? credential = ToClientCredential(Credential);

            foreach (string name in Endpoint)
            {
                StitchEndpoint endpoint;
                try
                {
                    endpoint = StitchEndpoint.Resolve(name);
                }
                catch (StitchMtlsException ex)
                {
                    WriteFailure(ex);
                    continue;
                }

                ConnectionTestOptions options = NewConnectionTestOptions(endpoint, certificate, authorities,
                    credential, Scope, SkipPreFlight);
                StitchMtlsTestResult result = RunWithPipelineLog((log, token) =>
                    ConnectionTest.RunAsync(options, log, token), $"Testing mTLS to {endpoint.MtlsUri}");
                WriteObject(Quiet ? result.Success : result);
            }
        }
        catch (StitchMtlsException ex)
        {
            WriteFailure(ex);
        }
    }
}
