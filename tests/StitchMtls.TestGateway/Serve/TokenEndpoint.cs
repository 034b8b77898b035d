using System;
using System.Collections.Frozen;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// <c>POST /connect/token</c>: Stitch's OAuth 2.0 client-credentials grant (RFC 6749, section 4.4) with
/// client_secret_post authentication, or private_key_jwt (RFC 7523) when a registered certificate is given.
/// Tokens are random and opaque; <see cref="IssuedTokens"/> remembers them for the API endpoints.
/// </summary>
internal sealed class TokenEndpoint
{
    public const string Path = "/connect/token";

    /// <summary>The only audience Stitch accepts, when a client names one.</summary>
    public const string Audience = "https://secure.stitch.money/connect/token";

    public const int DefaultExpiresInSeconds = 3600;

    public const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

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

    private readonly string _clientIdText;
    private readonly byte[] _clientId;
    private readonly byte[] _clientSecret;
    private readonly IssuedTokens _tokens;
    private readonly ClientAssertionVerifier? _assertions;
    private readonly object _forcedLock = new();
    private string? _forcedError;
    private int _forcedRemaining;

    /// <param name="clientId">The one registered client.</param>
    /// <param name="clientSecret">Its secret, for client_secret_post.</param>
    /// <param name="tokens">Where issued tokens are kept.</param>
    /// <param name="assertions">Checks private_key_jwt assertions; null when the client registered no key.</param>
    public TokenEndpoint(string clientId, string clientSecret, IssuedTokens tokens,
        ClientAssertionVerifier? assertions)
    {
        _clientIdText = clientId;
        _clientId = Encoding.UTF8.GetBytes(clientId);
        _clientSecret = Encoding.UTF8.GetBytes(clientSecret);
        _tokens = tokens;
        _assertions = assertions;
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

        string grantedScope = string.Empty;
        string? forced = TakeForcedError();
        TokenError? error = forced is not null
            ? TokenError.Of(forced, $"The test asked for {forced}.")
            : await AuthenticateAsync(form) ?? Validate(form, out grantedScope);

        if (error is not null)
        {
            await WriteErrorAsync(context, error);
            return;
        }

        string accessToken = _tokens.Issue(_clientIdText);
        var token = new TokenResponse(accessToken, _tokens.LifetimeSeconds, "Bearer", grantedScope);
        SetNoStore(context.Response);
        await context.Response.WriteAsJsonAsync(token, context.RequestAborted);
    }

    /// <summary>
    /// <c>POST /test/token-error</c> with <c>error=&lt;code&gt;</c> and optionally <c>times=&lt;n&gt;</c> (1 by
    /// default): the next n token requests, whatever they carry, get that OAuth error, so tests can see how a
    /// client reports each code and how it retries the transient ones.
    /// </summary>
    public async Task FailNextAsync(HttpContext context)
    {
        IFormCollection form = await context.Request.ReadFormAsync(context.RequestAborted);
        string code = form["error"].ToString();
        string timesText = form["times"].ToString();
        int times = 1;
        if (code.Length == 0 || (timesText.Length > 0 && (!int.TryParse(timesText, out times) || times < 1)))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        lock (_forcedLock)
        {
            _forcedError = code;
            _forcedRemaining = times;
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private string? TakeForcedError()
    {
        lock (_forcedLock)
        {
            if (_forcedRemaining == 0)
            {
                return null;
            }

            _forcedRemaining--;
            return _forcedError;
        }
    }

    /// <summary>Checks the request's form and the client's proof: a secret, or a signed assertion.</summary>
    private async Task<TokenError?> AuthenticateAsync(IFormCollection form)
    {
        string? repeated = form.Keys.FirstOrDefault(name => form[name].Count > 1);
        if (repeated is not null)
        {
            return TokenError.InvalidRequest($"The parameter '{repeated}' is given more than once.");
        }

        bool asserted = form.ContainsKey("client_assertion") || form.ContainsKey("client_assertion_type");
        string[] required = asserted
            ? new[] { "grant_type", "client_assertion_type", "client_assertion" }
            : new[] { "grant_type", "client_id", "client_secret" };
        foreach (string name in required)
        {
            if (StringValues.IsNullOrEmpty(form[name]))
            {
                return TokenError.InvalidRequest($"The parameter '{name}' is missing.");
            }
        }

        if (!asserted)
        {
            return Authenticate(form["client_id"].ToString(), form["client_secret"].ToString())
                ? null
                : TokenError.InvalidClient("Client authentication failed.");
        }

        if (form.ContainsKey("client_secret"))
        {
            return TokenError.InvalidRequest("Use one client authentication method: a secret or an assertion.");
        }

        if (form["client_assertion_type"].ToString() != AssertionType)
        {
            return TokenError.InvalidRequest($"The client_assertion_type must be '{AssertionType}'.");
        }

        if (_assertions is null)
        {
            return TokenError.InvalidClient("The client has registered no key for private_key_jwt.");
        }

        if (!StringValues.IsNullOrEmpty(form["client_id"]) && form["client_id"].ToString() != _clientIdText)
        {
            return TokenError.InvalidClient("Client authentication failed.");
        }

        string? problem = await _assertions.VerifyAsync(form["client_assertion"].ToString());
        return problem is null ? null : TokenError.InvalidClient(problem);
    }

    private TokenError? Validate(IFormCollection form, out string grantedScope)
    {
        grantedScope = string.Empty;

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
