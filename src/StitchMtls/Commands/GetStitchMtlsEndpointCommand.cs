using System.Management.Automation;

namespace StitchMtls.Commands;

/// <summary>Lists Stitch's documented mTLS endpoints.</summary>
[Cmdlet(VerbsCommon.Get, "StitchMtlsEndpoint")]
[OutputType(typeof(StitchEndpoint))]
public sealed class GetStitchMtlsEndpointCommand : StitchCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(EndpointNameCompleter))]
    public string Name { get; set; } = "*";

    protected override void ProcessRecord()
    {
        var pattern = new WildcardPattern(Name, WildcardOptions.IgnoreCase);
        foreach (StitchEndpoint endpoint in StitchEndpoint.Documented)
        {
            if (pattern.IsMatch(endpoint.Name))
            {
                WriteObject(endpoint);
            }
        }
    }
}
