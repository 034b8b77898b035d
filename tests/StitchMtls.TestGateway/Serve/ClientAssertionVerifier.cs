using System;
using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// Checks a <c>private_key_jwt</c> client assertion (RFC 7523 section 3) as Stitch would: an RS256 signature by
/// the client's registered certificate, iss = sub = client_id, aud = the token URL, an exp at most
/// <see cref="MaxLifetime"/> ahead, and a jti never seen before. Microsoft.IdentityModel.JsonWebTokens does the
/// JWT work, so StitchMtls's own signing is checked by an implementation it shares nothing with.
/// </summary>
internal sealed class ClientAssertionVerifier
{
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(10);

    private readonly string _clientId;
    private readonly X509SecurityKey _registeredKey;
    private readonly ConcurrentDictionary<string, DateTime> _seenIds = new(StringComparer.Ordinal);
    private readonly JsonWebTokenHandler _handler = new();

    public ClientAssertionVerifier(string clientId, X509Certificate2 registeredCertificate)
    {
        _clientId = clientId;
        _registeredKey = new X509SecurityKey(registeredCertificate);
    }

    /// <summary>Null when the assertion is good; otherwise why not, for the error_description.</summary>
    public async Task<string?> VerifyAsync(string assertion)
    {
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = _clientId,
            ValidAudience = TokenEndpoint.Audience,
            IssuerSigningKey = _registeredKey,
            TryAllIssuerSigningKeys = true,
            ValidAlgorithms = new[] { SecurityAlgorithms.RsaSha256 },
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = TimeSpan.FromSeconds(30),
        };
        TokenValidationResult result = await _handler.ValidateTokenAsync(assertion, parameters);
        if (!result.IsValid)
        {
            return "The client assertion is not valid: " + Describe(result.Exception);
        }

        var token = (JsonWebToken)result.SecurityToken;
        if (token.Subject != _clientId)
        {
            return "The client assertion's sub must be the client_id.";
        }

        if (token.ValidTo > DateTime.UtcNow + MaxLifetime)
        {
            return $"The client assertion's exp is more than {MaxLifetime.TotalMinutes:0} minutes away.";
        }

        if (string.IsNullOrEmpty(token.Id))
        {
            return "The client assertion has no jti.";
        }

        if (!_seenIds.TryAdd(token.Id, token.ValidTo))
        {
            return "The client assertion's jti has been used before.";
        }

        return null;
    }

    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException =>
            "the signature does not verify with the registered key.",
        SecurityTokenInvalidIssuerException => "iss is not the client_id.",
        SecurityTokenInvalidAudienceException => $"aud is not {TokenEndpoint.Audience}.",
        SecurityTokenExpiredException => "it has expired.",
        SecurityTokenNoExpirationException => "it has no exp.",
        SecurityTokenInvalidAlgorithmException => "it is not signed with RS256.",
        null => "unknown reason.",
        _ => exception.GetType().Name + ".",
    };
}
