using System;
using System.Net;
using System.Security;

namespace StitchMtls;

/// <summary>
/// An access token from Stitch's token endpoint. The token itself is held only as a <see cref="SecureString"/>;
/// nothing this object prints shows it.
/// </summary>
/// <remarks>
/// PowerShell would serialise the SecureString recoverably (DPAPI on Windows, plain hex elsewhere), so the
/// module's StitchMtls.Types.ps1xml names the properties serialisation writes, and AccessToken is not among them.
/// </remarks>
public sealed class StitchAccessToken
{
    internal StitchAccessToken(SecureString accessToken, string tokenType, DateTime expiresOn, string scope,
        AccessTokenProvider provider)
    {
        AccessToken = accessToken;
        TokenType = tokenType;
        ExpiresOn = expiresOn;
        Scope = scope;
        Provider = provider;
    }

    /// <summary>The bearer token, read-only.</summary>
    public SecureString AccessToken { get; }

    public string TokenType { get; }

    /// <summary>When the token expires, in UTC, by this machine's clock when it was requested.</summary>
    public DateTime ExpiresOn { get; }

    /// <summary>The scopes granted, space-separated, as the token endpoint returned them.</summary>
    public string Scope { get; }

    public string ClientId => Provider.ClientId;

    /// <summary>The token endpoint that issued the token.</summary>
    public string Endpoint => Provider.TokenUri.ToString();

    /// <summary>The client certificate the token was requested with, which API calls with it present too.</summary>
    public string CertificateThumbprint => Provider.Pool.CertificateThumbprint;

    /// <summary>How the client authenticated: <c>client_secret_post</c> or <c>private_key_jwt</c>.</summary>
    public string ClientAuthentication => Provider.ClientAuthentication;

    /// <summary>Where a new token comes from when this one expires or is refused, and the connection to use.</summary>
    internal AccessTokenProvider Provider { get; }

    /// <summary>True when the token has expired or will within <paramref name="margin"/>.</summary>
    public bool ExpiresWithin(TimeSpan margin) => DateTime.UtcNow + margin >= ExpiresOn;

    /// <summary>The token text, for the Authorization header only.</summary>
    internal string Reveal() => new NetworkCredential(string.Empty, AccessToken).Password;

    public override string ToString() =>
        $"{TokenType} token for '{ClientId}' ({Scope}), expires {ExpiresOn:yyyy-MM-dd HH:mm:ss}Z";
}
