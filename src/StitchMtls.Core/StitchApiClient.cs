using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Polly;

namespace StitchMtls;

/// <summary>
/// Calls Stitch's API over the session's mTLS connection pool: GraphQL on <c>/graphql</c> and REST paths, with a
/// bearer token it gets and renews itself.
/// </summary>
/// <remarks>
/// Stitch answers an expired or malformed token on <c>/graphql</c> with HTTP 200 and an <c>UNAUTHENTICATED</c>
/// error, not 401; either way the client fetches a new token and retries once, never more. 429 and 502-504 are
/// retried with exponential backoff, or after the server's Retry-After, at most <see cref="MaxRetries"/> times.
/// 500 is retried only for GET and HEAD: a POST may have been carried out before the server failed.
/// </remarks>
public sealed class StitchApiClient
{
    public const int MaxRetries = TransientRetry.MaxRetries;

    /// <summary>A Retry-After longer than this is not waited for; the answer is reported instead.</summary>
    public static readonly TimeSpan MaxRetryAfter = TransientRetry.MaxRetryAfter;

    private readonly AccessTokenProvider _tokens;
    private readonly Uri _api;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _backoff;
    private readonly IOperationLog _log;
    private StitchAccessToken? _token;

    /// <param name="tokens">Where tokens come from; its pool carries the calls.</param>
    /// <param name="api">The API host: Api, or a test gateway.</param>
    /// <param name="timeout">How long one call may take, token, retries and waits included.</param>
    /// <param name="log">Verbose narration; it never carries the token.</param>
    /// <param name="token">A token to start with, as from the pipeline; renewed like any other.</param>
    /// <param name="backoff">The first retry delay when the server names none; doubles per retry.</param>
    public StitchApiClient(AccessTokenProvider tokens, StitchEndpoint api, TimeSpan timeout, IOperationLog log,
        StitchAccessToken? token = null, TimeSpan? backoff = null)
    {
        _tokens = tokens;
        _api = api.MtlsUri;
        _timeout = timeout;
        _log = log;
        _token = token;
        _backoff = backoff ?? TransientRetry.DefaultBackoff;
    }

    /// <summary>Sends a GraphQL request and returns its data and errors.</summary>
    /// <exception cref="StitchMtlsException">
    /// <c>JsonValueNotSerializable</c> for variables JSON cannot hold, or the call failed before a GraphQL answer
    /// came.
    /// </exception>
    public Task<GraphQLResponse> QueryAsync(GraphQLRequest request, CancellationToken cancellationToken)
    {
        var target = new Uri(_api, "graphql");
        var payload = new Dictionary<string, object?> { ["query"] = request.Query };
        if (request.OperationName is not null)
        {
            payload["operationName"] = request.OperationName;
        }

        if (request.Variables is not null)
        {
            payload["variables"] = request.Variables;
        }

        byte[] body;
        try
        {
            body = JsonSerializer.SerializeToUtf8Bytes(payload);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            throw new StitchMtlsException("JsonValueNotSerializable", FailureCategory.InvalidArgument, "The GraphQL " +
                $"variables cannot be sent as JSON: {ex.Message} Give hashtables, lists, strings, finite numbers, " +
                "booleans and null.", "-Variables", ex);
        }

        return WithTokenAsync(target, async (token, cancel) =>
        {
            (int status, string text) = await SendAsync(HttpMethod.Post, target, body, token, cancel)
                .ConfigureAwait(false);
            GraphQLResponse? response = GraphQLResponse.Parse(text);
            bool refused = status == 401 || response?.IsUnauthenticated == true;
            if (refused || (response is not null && status is 200 or 400))
            {
                return (response ?? new GraphQLResponse(null, new[] { Unauthenticated() }), refused);
            }

            throw status == 200
                ? new StitchMtlsException("ApiResponseInvalid", FailureCategory.InvalidResult, $"{target} answered " +
                    $"HTTP 200 with a body that is not a GraphQL response: {ConnectionDiagnosis.Excerpt(text)}",
                    target.ToString())
                : StatusFailure(status, text, target);
        }, cancellationToken);
    }

    /// <summary>Sends a REST request to <paramref name="path"/> on the API host; JSON in, JSON out.</summary>
    /// <exception cref="StitchMtlsException"><c>PathInvalid</c>, an HTTP error status, or a failed call.</exception>
    public Task<RestResponse> SendAsync(HttpMethod method, string path, string? jsonBody,
        CancellationToken cancellationToken)
    {
        if (!path.StartsWith('/') || path.StartsWith("//", StringComparison.Ordinal))
        {
            throw new StitchMtlsException("PathInvalid", FailureCategory.InvalidArgument, $"The path '{path}' is " +
                "not a path on the API host. Give it from the root, such as '/v2/ping'; the host comes from -Endpoint.",
                path);
        }

        var target = new Uri(_api, path);
        byte[]? body = jsonBody is null ? null : Encoding.UTF8.GetBytes(jsonBody);
        return WithTokenAsync(target, async (token, cancel) =>
        {
            (int status, string text) = await SendAsync(method, target, body, token, cancel).ConfigureAwait(false);
            if (status == 401)
            {
                return (new RestResponse(status, null, text), true);
            }

            if (status >= 400)
            {
                throw StatusFailure(status, text, target);
            }

            return (new RestResponse(status, ParseJson(text), text), false);
        }, cancellationToken);
    }

    private async Task<T> WithTokenAsync<T>(Uri target,
        Func<StitchAccessToken, CancellationToken, Task<(T Result, bool Refused)>> call,
        CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_timeout);
        try
        {
            StitchAccessToken token = await CurrentTokenAsync(limit.Token).ConfigureAwait(false);
            (T result, bool refused) = await call(token, limit.Token).ConfigureAwait(false);
            if (!refused)
            {
                return result;
            }

            _log.Verbose($"{target.Authority} refused the token as unauthenticated (expired or revoked); fetching a " +
                "new token and retrying once.");
            _tokens.Forget(token);
            _token = await _tokens.GetAsync(force: true, _log, limit.Token).ConfigureAwait(false);
            (result, refused) = await call(_token, limit.Token).ConfigureAwait(false);
            if (refused && result is RestResponse rest)
            {
                throw StatusFailure(rest.StatusCode, rest.Text, target);
            }

            return result;
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested
            && !cancellationToken.IsCancellationRequested)
        {
            throw ApiFailure.TimedOut(target, _timeout);
        }
        catch (Exception ex) when (ApiFailure.IsNetworkFailure(ex) && !limit.IsCancellationRequested)
        {
            throw ApiFailure.FromException(ex, target, _tokens.Pool.Certificate, _tokens.Pool.ProxyFor(target));
        }
    }

    private async Task<StitchAccessToken> CurrentTokenAsync(CancellationToken cancellationToken)
    {
        if (_token is not null && !_token.ExpiresWithin(AccessTokenProvider.RenewalMargin))
        {
            return _token;
        }

        if (_token is not null)
        {
            _log.Verbose($"The token given expires at {_token.ExpiresOn:u}; getting a new one first.");
        }

        _token = await _tokens.GetAsync(force: false, _log, cancellationToken).ConfigureAwait(false);
        return _token;
    }

    private async Task<(int Status, string Text)> SendAsync(HttpMethod method, Uri target, byte[]? body,
        StitchAccessToken token, CancellationToken cancellationToken)
    {
        var authorization = new AuthenticationHeaderValue("Bearer", token.Reveal());
        ResiliencePipeline<HttpResponseMessage> retry = CreateRetryPipeline(method, target);
        _log.Verbose($"{method} {target.AbsolutePath} on {target.Authority}.");
        using HttpResponseMessage response = await retry.ExecuteAsync(async cancel =>
        {
            ByteArrayContent? content = null;
            if (body is not null)
            {
                content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            }

            return await _tokens.Pool.SendAsync(method, target, content, authorization, _log, cancel)
                .ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        _log.Verbose($"HTTP {(int)response.StatusCode} from {method} {target.AbsolutePath}.");
        return ((int)response.StatusCode, text);
    }

    private ResiliencePipeline<HttpResponseMessage> CreateRetryPipeline(HttpMethod method, Uri target)
    {
        bool repeatable = method == HttpMethod.Get || method == HttpMethod.Head;
        return TransientRetry.Create(target, _backoff, _log, response =>
        {
            int status = (int)response.StatusCode;
            return ValueTask.FromResult(TransientRetry.IsTransientStatus(status, repeatable) ? $"HTTP {status}" : null);
        });
    }

    private StitchMtlsException StatusFailure(int status, string text, Uri target)
    {
        string where = target.GetLeftPart(UriPartial.Path);
        string excerpt = ConnectionDiagnosis.Excerpt(text);
        string quoted = excerpt.Length == 0 ? "." : $": {excerpt}";
        return status switch
        {
            403 when text.Contains("RBAC: access denied", StringComparison.Ordinal) => new("RbacDenied",
                FailureCategory.PermissionDenied, ConnectionDiagnosis.RbacDenied(_tokens.Pool.Certificate,
                    _api.ToString()), where),
            401 => new("ApiUnauthenticated", FailureCategory.AuthenticationError, $"{where} refused the token " +
                "(HTTP 401) also after a new one was fetched. Check that the client is granted the scopes this call " +
                "needs (-Scope)" + quoted, where),
            429 => new("ApiThrottled", FailureCategory.LimitsExceeded, $"{where} answered 429 Too Many Requests" +
                $" after {MaxRetries} retries, or asked to wait longer than {MaxRetryAfter.TotalSeconds:0} s. Slow " +
                "down and try again later.", where),
            >= 500 => new("ApiServerError", FailureCategory.ResourceUnavailable, $"{where} answered HTTP {status}" +
                (status == 500 ? string.Empty : $" after {MaxRetries} retries") + quoted + " If it persists, report " +
                "it to Stitch with the time of the call.", where),
            _ => new("ApiHttpError", FailureCategory.InvalidResult, $"{where} answered HTTP {status}{quoted}", where),
        };
    }

    private static GraphQLError Unauthenticated() =>
        new("The API refused the token (HTTP 401).", null, "UNAUTHENTICATED");

    private static JsonElement? ParseJson(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
