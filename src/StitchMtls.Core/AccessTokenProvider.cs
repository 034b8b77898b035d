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
using Polly;

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

    /// <summary>The first delay before a transient failure is retried; tests shorten it.</summary>
    internal TimeSpan RetryBackoff { get; init; } = TransientRetry.DefaultBackoff;

    public string ClientAuthentication =>
        _request.AssertionCertificate is null ? SecretAuthentication : AssertionAuthentication;

    /// <summary>Forgets every token of the session.</summary>
    public static void ClearCache() => s_cache.Clear();

    /// <summary>
    /// Forgets the session's tokens and closes its connection pools of the client certificate with
    /// <paramref name="thumbprint"/>, after the certificate and its key were removed. A token object fetched
    /// earlier is refused from then on with <c>ClientCertificateRemoved</c>, so a deleted key stops being used in
    /// this process at once. Other processes keep what they loaded until they end.
    /// </summary>
    /// <returns>How many tokens and pools were dropped; 0 when the certificate was not in use here.</returns>
    public static int Forget(string thumbprint)
    {
        int dropped = 0;
        foreach (KeyValuePair<string, StitchAccessToken> entry in s_cache.ToList())
        {
            if (string.Equals(entry.Value.CertificateThumbprint, thumbprint.Trim(), StringComparison.OrdinalIgnoreCase)
                && s_cache.TryRemove(entry))
            {
                dropped++;
            }
        }

        return dropped + MtlsConnectionPool.Forget(thumbprint);
    }

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
        Pool.ThrowIfForgotten();
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
        WarnIfAssertionCertificateOutOfDate(log);

        // Repeating a client_credentials request does nothing twice: at worst the server issues a second token.
        ResiliencePipeline<HttpResponseMessage> retry = TransientRetry.Create(TokenUri, RetryBackoff, log,
            TransientReasonAsync);
        DateTime sentAt = DateTime.UtcNow;
        try
        {
            using HttpResponseMessage response = await retry.ExecuteAsync(async cancel =>
            {
                sentAt = DateTime.UtcNow;

                // A new form, so a new client assertion, per attempt: its jti is single-use, and the server may
                // have recorded the last one before it failed.
                return await Pool.SendAsync(HttpMethod.Post, TokenUri, new FormUrlEncodedContent(CreateForm(scopes)),
                    null, log, cancel).ConfigureAwait(false);
            }, token).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
            return Interpret((int)response.StatusCode, body, sentAt, log);
        }
        catch (Exception ex) when (ApiFailure.IsNetworkFailure(ex) && !token.IsCancellationRequested)
        {
            throw ApiFailure.FromException(ex, TokenUri, Pool.Certificate, Pool.ProxyFor(TokenUri));
        }
    }

    private List<KeyValuePair<string, string>> CreateForm(string scopes)
    {
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

        return form;
    }

    /// <summary>
    /// The test gateway does not check the assertion certificate's validity period and Stitch's behaviour is not
    /// documented, so an out-of-date certificate is used as it is, with a warning: the client certificate gets a
    /// strict pre-flight check, and this one should not fail silently later.
    /// </summary>
    private void WarnIfAssertionCertificateOutOfDate(IOperationLog log)
    {
        if (_request.AssertionCertificate is not { } certificate)
        {
            return;
        }

        DateTime now = DateTime.UtcNow;
        if (certificate.NotAfter.ToUniversalTime() < now)
        {
            log.Warning($"The client assertion certificate '{certificate.Subject}' ({certificate.Thumbprint}) " +
                $"expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z; Stitch may refuse " +
                "assertions it signs. Register a current certificate with Stitch and use it.");
        }
        else if (certificate.NotBefore.ToUniversalTime() > now)
        {
            log.Warning($"The client assertion certificate '{certificate.Subject}' ({certificate.Thumbprint}) " +
                $"is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z; Stitch may " +
                "refuse assertions it signs. Check this machine's clock.");
        }
    }

    /// <summary>
    /// Why a token response is worth repeating: a transient HTTP status, or the OAuth codes that say the server
    /// cannot serve the request for now (RFC 6749 section 4.1.2.1), whatever status they come with.
    /// </summary>
    private static async ValueTask<string?> TransientReasonAsync(HttpResponseMessage response)
    {
        int status = (int)response.StatusCode;
        if (status == 200)
        {
            return null;
        }

        string? code = OAuthErrorCode(await response.Content.ReadAsStringAsync().ConfigureAwait(false));
        if (code is "server_error" or "temporarily_unavailable")
        {
            return $"HTTP {status} ({code})";
        }

        return TransientRetry.IsTransientStatus(status, repeatable: true) ? $"HTTP {status}" : null;
    }

    private static string? OAuthErrorCode(string body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out JsonElement code)
                && code.ValueKind == JsonValueKind.String ? code.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
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
            throw new StitchMtlsException("HttpError", status >= 500 ? FailureCategory.ResourceUnavailable
                : FailureCategory.InvalidResult, $"The token endpoint " +
                $"{TokenUri} answered HTTP {status}: {Redact(ConnectionDiagnosis.Excerpt(body))}",
                TokenUri.ToString());
        }

        string error = code.GetString()!;
        string? description = json.TryGetProperty("error_description", out JsonElement text)
            && text.ValueKind == JsonValueKind.String ? text.GetString() : null;
        (string id, string diagnosis) = ConnectionDiagnosis.ForOAuthError(Redact(error), Redact(description),
            _request.AssertionCertificate);
        throw new StitchMtlsException(id, ConnectionDiagnosis.OAuthErrorCategory(error), diagnosis,
            TokenUri.ToString());
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
