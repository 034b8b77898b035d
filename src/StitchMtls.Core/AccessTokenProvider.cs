using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls;

/// <summary>Who asks for a token, where, for what, and how the client proves who it is.</summary>
public sealed class AccessTokenRequest
{
    /// <summary>The host with the token endpoint: Secure, or a test gateway.</summary>
    public required StitchEndpoint Endpoint { get; init; }

    public required string ClientId { get; init; }

    /// <summary>The client secret for client_secret_post; null with <see cref="AssertionCertificate"/>.</summary>
    public string? ClientSecret { get; init; }

    /// <summary>The certificate whose RSA key signs a private_key_jwt client assertion instead of a secret.</summary>
    public X509Certificate2? AssertionCertificate { get; init; }

    public IReadOnlyList<string> Scopes { get; init; } = Array.Empty<string>();
}

/// <summary>
/// Gets access tokens with the client-credentials grant (RFC 6749 section 4.4) over mutual TLS, and keeps them
/// for the session: a token is reused until <see cref="RenewalMargin"/> before it expires.
/// </summary>
/// <remarks>
/// The cache is keyed by client_id, the requested scopes and the token endpoint, as Stitch binds a token to
/// them; by the connection pool, that is the client certificate, the server CAs and the proxy settings, so a
/// cached token never skips the server-trust check or the proxy a call asks for; and by proof of the client's
/// credential: a keyed hash of the client secret, or of a signature only the assertion certificate's private
/// key can make. A wrong secret, or the assertion certificate without its key, never gets the token a right one
/// fetched earlier. The cache is process-wide.
/// </remarks>
public sealed class AccessTokenProvider
{
    public const string SecretAuthentication = "client_secret_post";

    public const string AssertionAuthentication = "private_key_jwt";

    public static readonly TimeSpan RenewalMargin = TimeSpan.FromSeconds(60);

    private static readonly ConcurrentDictionary<string, StitchAccessToken> s_cache = new(StringComparer.Ordinal);

    private readonly AccessTokenRequest _request;
    private readonly string _cacheKey;

    /// <exception cref="StitchMtlsException">
    /// <c>EndpointHasNoTokenEndpoint</c>, <c>CredentialMissing</c>, <c>ClientAssertionKeyMissing</c>,
    /// <c>ClientAssertionKeyUnsupported</c>.
    /// </exception>
    public AccessTokenProvider(AccessTokenRequest request, MtlsConnectionPool pool)
    {
        TokenUri = request.Endpoint.TokenUri ?? throw new StitchMtlsException("EndpointHasNoTokenEndpoint",
            FailureCategory.InvalidArgument, $"{request.Endpoint.MtlsUri} serves no token endpoint; tokens come from " +
            "the Secure host. Use -Endpoint Secure (the default) for the token.", request.Endpoint.MtlsUri.ToString());
        if (string.IsNullOrEmpty(request.ClientId)
            || (string.IsNullOrEmpty(request.ClientSecret) && request.AssertionCertificate is null))
        {
            throw new StitchMtlsException("CredentialMissing", FailureCategory.InvalidArgument, "A token needs the " +
                "client ID and either the client secret (-Credential) or a client assertion certificate " +
                "(-ClientAssertionCertificate with -ClientId or -Credential).", request.ClientId);
        }

        _request = request;
        Pool = pool;
        // Checked here, before any cache lookup, so the answer never depends on what ran earlier in the session.
        string proof = request.AssertionCertificate is not null
            ? "jwt:" + ClientAssertion.ProveKeyPossession(request.AssertionCertificate)
            : "secret:" + SecretFingerprint.Of(request.ClientSecret);
        string scopes = string.Join(' ', request.Scopes.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        _cacheKey = string.Join("\n", request.ClientId, scopes, TokenUri, proof, pool.SessionKey);
    }

    public string ClientId => _request.ClientId;

    public Uri TokenUri { get; }

    public MtlsConnectionPool Pool { get; }

    public string ClientAuthentication =>
        _request.AssertionCertificate is null ? SecretAuthentication : AssertionAuthentication;

    /// <summary>Forgets every token of the session.</summary>
    public static void ClearCache() => s_cache.Clear();

    /// <summary>The session's token when it is still good for <see cref="RenewalMargin"/>, else a new one.</summary>
    /// <param name="force">Fetch a new token even when the session holds a good one.</param>
    /// <param name="timeout">How long the token request may take.</param>
    /// <param name="log">Verbose narration; it never carries the token or the secret.</param>
    /// <param name="cancellationToken">Stops the request.</param>
    /// <exception cref="StitchMtlsException">An OAuth error (<c>Token&lt;Error&gt;</c>) or a connection failure.
    /// </exception>
    public async Task<StitchAccessToken> GetAsync(bool force, TimeSpan timeout, IOperationLog log,
        CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            return await GetAsync(force, log, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested
            && !cancellationToken.IsCancellationRequested)
        {
            throw ApiFailure.TimedOut(TokenUri, timeout);
        }
    }

    internal async Task<StitchAccessToken> GetAsync(bool force, IOperationLog log, CancellationToken token)
    {
        if (!force && s_cache.TryGetValue(_cacheKey, out StitchAccessToken? cached)
            && !cached.ExpiresWithin(RenewalMargin))
        {
            log.Verbose($"Using the session's token for client '{ClientId}' from {TokenUri}, valid until " +
                $"{cached.ExpiresOn:u}.");
            return cached;
        }

        StitchAccessToken fresh = await RequestAsync(log, token).ConfigureAwait(false);
        s_cache[_cacheKey] = fresh;
        return fresh;
    }

    /// <summary>Drops <paramref name="token"/> from the session after the API refused it.</summary>
    internal void Forget(StitchAccessToken token) =>
        s_cache.TryRemove(new KeyValuePair<string, StitchAccessToken>(_cacheKey, token));

    private async Task<StitchAccessToken> RequestAsync(IOperationLog log, CancellationToken token)
    {
        string scopes = string.Join(' ', _request.Scopes);
        log.Verbose($"Requesting a token for client '{ClientId}' from {TokenUri} with {ClientAuthentication}" +
            (scopes.Length == 0 ? " (no scope named: the client's default scopes)." : $", scopes '{scopes}'."));

        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "client_credentials"),
            new("client_id", ClientId),
            new("audience", StitchEndpoint.TokenAudience),
        };
        if (_request.AssertionCertificate is not null)
        {
            form.Add(new("client_assertion_type", ClientAssertion.AssertionType));
            form.Add(new("client_assertion", ClientAssertion.Create(ClientId, StitchEndpoint.TokenAudience,
                _request.AssertionCertificate, DateTimeOffset.UtcNow)));
        }
        else
        {
            form.Add(new("client_secret", _request.ClientSecret!));
        }

        if (scopes.Length > 0)
        {
            form.Add(new("scope", scopes));
        }

        DateTime sentAt = DateTime.UtcNow;
        try
        {
            using HttpResponseMessage response = await Pool.SendAsync(HttpMethod.Post, TokenUri,
                new FormUrlEncodedContent(form), null, log, token).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
            return Interpret((int)response.StatusCode, body, sentAt, log);
        }
        catch (Exception ex) when (ApiFailure.IsNetworkFailure(ex) && !token.IsCancellationRequested)
        {
            throw ApiFailure.FromException(ex, TokenUri, Pool.Certificate, Pool.ProxyFor(TokenUri));
        }
    }

    private StitchAccessToken Interpret(int status, string body, DateTime sentAt, IOperationLog log)
    {
        if (status == 403 && body.Contains("RBAC: access denied", StringComparison.Ordinal))
        {
            throw new StitchMtlsException("RbacDenied", FailureCategory.PermissionDenied,
                ConnectionDiagnosis.RbacDenied(Pool.Certificate, TokenUri.ToString()), TokenUri.ToString());
        }

        JsonElement json;
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            json = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new StitchMtlsException("TokenResponseInvalid", FailureCategory.InvalidData, $"The token " +
                $"endpoint {TokenUri} answered HTTP {status} with a body that is not an OAuth 2.0 JSON response. " +
                "Check that -Endpoint points at Stitch's token host.", TokenUri.ToString());
        }

        if (json.ValueKind != JsonValueKind.Object)
        {
            throw new StitchMtlsException("TokenResponseInvalid", FailureCategory.InvalidData, $"The token " +
                $"endpoint {TokenUri} answered HTTP {status} with JSON that is not an object.", TokenUri.ToString());
        }

        if (status == 200 && json.TryGetProperty("access_token", out JsonElement value)
            && value.ValueKind == JsonValueKind.String)
        {
            return CreateToken(json, value, sentAt, log);
        }

        if (!json.TryGetProperty("error", out JsonElement code) || code.ValueKind != JsonValueKind.String)
        {
            throw new StitchMtlsException("HttpError", FailureCategory.InvalidResult, $"The token endpoint " +
                $"{TokenUri} answered HTTP {status}: {Redact(ConnectionDiagnosis.Excerpt(body))}",
                TokenUri.ToString());
        }

        string error = code.GetString()!;
        string? description = json.TryGetProperty("error_description", out JsonElement text)
            && text.ValueKind == JsonValueKind.String ? text.GetString() : null;
        (string id, string diagnosis) = ConnectionDiagnosis.ForOAuthError(Redact(error), Redact(description));
        FailureCategory category = error is "invalid_client" or "unauthorized_client" or "invalid_grant"
            ? FailureCategory.AuthenticationError
            : FailureCategory.InvalidArgument;
        throw new StitchMtlsException(id, category, diagnosis, TokenUri.ToString());
    }

    private StitchAccessToken CreateToken(JsonElement json, JsonElement value, DateTime sentAt, IOperationLog log)
    {
        var secure = new SecureString();
        foreach (char character in value.GetString()!)
        {
            secure.AppendChar(character);
        }

        secure.MakeReadOnly();
        int seconds = json.TryGetProperty("expires_in", out JsonElement expires)
            && expires.TryGetInt32(out int lifetime) ? lifetime : 0;
        string type = json.TryGetProperty("token_type", out JsonElement kind) && kind.ValueKind == JsonValueKind.String
            ? kind.GetString()! : "Bearer";
        string scope = json.TryGetProperty("scope", out JsonElement granted)
            && granted.ValueKind == JsonValueKind.String ? granted.GetString()! : string.Join(' ', _request.Scopes);
        log.Verbose($"Received a {type} token for client '{ClientId}' valid for {seconds} s" +
            (scope.Length == 0 ? "." : $", scopes '{scope}'."));
        return new StitchAccessToken(secure, type, sentAt.AddSeconds(seconds), scope, this);
    }

    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    private string? Redact(string? text) => ConnectionDiagnosis.Redact(text, _request.ClientSecret);
}
