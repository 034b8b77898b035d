using System;
using System.Collections.Generic;
using System.Linq;

namespace StitchMtls;

/// <summary>One of Stitch's mTLS hosts, as the gateway documentation lists them.</summary>
public sealed class StitchEndpoint
{
    /// <summary>The fixed address of both mTLS hosts, the one to allow in an egress firewall.</summary>
    public const string DocumentedAddress = "20.87.105.80";

    /// <summary>The token audience stays the standard host's token URL, also over mTLS.</summary>
    public const string TokenAudience = "https://secure.stitch.money/connect/token";

    public static readonly IReadOnlyList<StitchEndpoint> Documented = new[]
    {
        new StitchEndpoint("Secure", new Uri("https://secure.mtls.stitch.money/"),
            new Uri("https://secure.stitch.money/"), DocumentedAddress, "Token endpoint (/connect/token)"),
        new StitchEndpoint("Api", new Uri("https://api.mtls.stitch.money/"),
            new Uri("https://api.stitch.money/"), DocumentedAddress, "GraphQL API (/graphql)"),
    };

    public StitchEndpoint(string name, Uri mtlsUri, Uri? standardUri, string? ipAddress, string purpose)
    {
        Name = name;
        MtlsUri = mtlsUri;
        StandardUri = standardUri;
        IPAddress = ipAddress;
        Purpose = purpose;
    }

    public string Name { get; }

    public Uri MtlsUri { get; }

    public Uri? StandardUri { get; }

    public string? IPAddress { get; }

    public string Purpose { get; }

    /// <summary>
    /// The client-credentials endpoint on this host, or null for the Api host, which serves no token endpoint
    /// (tokens come from the Secure host).
    /// </summary>
    public Uri? TokenUri => Name == "Api" ? null : new Uri(MtlsUri, "connect/token");

    public bool IsDocumented => Documented.Any(endpoint => endpoint.MtlsUri == MtlsUri);

    /// <summary>Resolves <c>Secure</c>, <c>Api</c> or an https URI (for a local or test gateway).</summary>
    /// <exception cref="StitchMtlsException"><c>EndpointInvalid</c>.</exception>
    public static StitchEndpoint Resolve(string value)
    {
        StitchEndpoint? named = Documented.FirstOrDefault(endpoint =>
            string.Equals(endpoint.Name, value, StringComparison.OrdinalIgnoreCase)
            || string.Equals(endpoint.MtlsUri.Host, value, StringComparison.OrdinalIgnoreCase));
        if (named is not null)
        {
            return named;
        }

        if (Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) && uri.Scheme == Uri.UriSchemeHttps)
        {
            StitchEndpoint? byUri = Documented.FirstOrDefault(endpoint => endpoint.MtlsUri.Host == uri.Host
                && uri.IsDefaultPort);
            return byUri ?? new StitchEndpoint(uri.Authority, new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"),
                null, null, "Custom endpoint");
        }

        throw new StitchMtlsException("EndpointInvalid", FailureCategory.InvalidArgument,
            $"The endpoint '{value}' is not valid. Use 'Secure', 'Api' or an https URI such as " +
            "'https://127.0.0.1:8443/'.", value);
    }
}
