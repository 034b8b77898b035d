using System;
using System.Buffers.Text;
using System.Collections.Frozen;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// <c>POST /connect/token</c>: Stitch's OAuth 2.0 client-credentials grant (RFC 6749, section 4.4) with
/// client_secret_post authentication. Tokens are random and opaque; nothing checks them later.
/// </summary>
internal sealed class TokenEndpoint
{
    public const string Path = "/connect/token";

    /// <summary>The only audience Stitch accepts, when a client names one.</summary>
    public const string Audience = "https://secure.stitch.money/connect/token";

    public const int ExpiresInSeconds = 3600;

    private static readonly FrozenSet<string> s_supportedScopes = new[]
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
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly string s_allScopes = string.Join(' ', s_supportedScopes.Order(StringComparer.Ordinal));

    private readonly byte[] _clientId;
    private readonly byte[] _clientSecret;

    public TokenEndpoint(string clientId, string clientSecret)
    {
        _clientId = Encoding.UTF8.GetBytes(clientId);
        _clientSecret = Encoding.UTF8.GetBytes(clientSecret);
    }

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            TokenError notForm = TokenError.InvalidRequest("The body must be application/x-www-form-urlencoded.");
            await WriteErrorAsync(context, notForm);
            return;
        }

        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            await WriteErrorAsync(context, TokenError.InvalidRequest($"The form cannot be read: {e.Message}"));
            return;
        }

        TokenError? error = Validate(form, out string grantedScope);

        if (error is not null)
        {
            await WriteErrorAsync(context, error);
            return;
        }

        var token = new TokenResponse(NewAccessToken(), ExpiresInSeconds, "Bearer", grantedScope);
        SetNoStore(context.Response);
        await context.Response.WriteAsJsonAsync(token, context.RequestAborted);
    }

    private TokenError? Validate(IFormCollection form, out string grantedScope)
    {
        grantedScope = string.Empty;

        string? repeated = form.Keys.FirstOrDefault(name => form[name].Count > 1);
        if (repeated is not null)
        {
            return TokenError.InvalidRequest($"The parameter '{repeated}' is given more than once.");
        }

        foreach (string required in new[] { "grant_type", "client_id", "client_secret" })
        {
            if (StringValues.IsNullOrEmpty(form[required]))
            {
                return TokenError.InvalidRequest($"The parameter '{required}' is missing.");
            }
        }

        if (!Authenticate(form["client_id"].ToString(), form["client_secret"].ToString()))
        {
            return TokenError.InvalidClient("Client authentication failed.");
        }

        string grantType = form["grant_type"].ToString();
        if (grantType != "client_credentials")
        {
            return TokenError.UnsupportedGrantType($"The grant type '{grantType}' is not supported.");
        }

        if (form.TryGetValue("audience", out StringValues audience) && audience.ToString() != Audience)
        {
            return TokenError.InvalidRequest($"The audience must be '{Audience}'.");
        }

        string[] scopes = form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string? unknown = scopes.FirstOrDefault(scope => !s_supportedScopes.Contains(scope));
        if (unknown is not null)
        {
            return TokenError.InvalidScope($"The scope '{unknown}' is not supported.");
        }

        // Like Stitch, a request that names no scope gets every scope the client may have.
        grantedScope = scopes.Length == 0 ? s_allScopes : string.Join(' ', scopes.Distinct(StringComparer.Ordinal));
        return null;
    }

    private bool Authenticate(string clientId, string clientSecret)
    {
        bool idMatches = CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(clientId), _clientId);
        bool secretMatches = CryptographicOperations.FixedTimeEquals(
            Encoding.UTF8.GetBytes(clientSecret),
            _clientSecret);
        return idMatches & secretMatches;
    }

    private static string NewAccessToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    private static async Task WriteErrorAsync(HttpContext context, TokenError error)
    {
        context.Response.StatusCode = error.StatusCode;
        SetNoStore(context.Response);
        await context.Response.WriteAsJsonAsync(error.Body, context.RequestAborted);
    }

    /// <summary>RFC 6749, section 5.1: token responses must not be cached.</summary>
    private static void SetNoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn,
        [property: JsonPropertyName("token_type")] string TokenType,
        [property: JsonPropertyName("scope")] string Scope);
}
