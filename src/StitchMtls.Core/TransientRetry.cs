using System;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading.Tasks;
using Polly;
using Polly.Retry;

namespace StitchMtls;

/// <summary>
/// The one retry policy of the token endpoint and the API: exponential backoff with jitter, or the server's
/// Retry-After, at most <see cref="MaxRetries"/> times, and never a wait longer than <see cref="MaxRetryAfter"/>.
/// </summary>
internal static class TransientRetry
{
    public const int MaxRetries = 3;

    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    /// <summary>The first retry delay when the server names none; it doubles per retry.</summary>
    public static readonly TimeSpan DefaultBackoff = TimeSpan.FromSeconds(1);

    /// <param name="target">Named in the verbose line of each retry.</param>
    /// <param name="backoff">The first delay when the server names none.</param>
    /// <param name="log">Where each retry is narrated.</param>
    /// <param name="reason">Why a response is worth repeating, such as <c>HTTP 503</c>; null when it is not.
    /// A response whose Retry-After is longer than <see cref="MaxRetryAfter"/> is never repeated.</param>
    public static ResiliencePipeline<HttpResponseMessage> Create(Uri target, TimeSpan backoff, IOperationLog log,
        Func<HttpResponseMessage, ValueTask<string?>> reason)
    {
        return new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = backoff,
                MaxDelay = MaxRetryAfter,
                ShouldHandle = async args => args.Outcome.Result is { } response
                    && (RetryAfter(response) ?? TimeSpan.Zero) <= MaxRetryAfter
                    && await reason(response).ConfigureAwait(false) is not null,
                DelayGenerator = args => ValueTask.FromResult(
                    args.Outcome.Result is { } response ? RetryAfter(response) : null),
                OnRetry = async args =>
                {
                    string? why = args.Outcome.Result is { } response
                        ? await reason(response).ConfigureAwait(false)
                        : null;
                    log.Verbose($"{why} from {target.AbsolutePath}; retry {args.AttemptNumber + 1} of " +
                        $"{MaxRetries} in {args.RetryDelay.TotalSeconds:0.0} s.");
                },
            })
            .Build();
    }

    /// <summary>429 and 502-504 always; 500 only where repeating the request cannot do anything twice.</summary>
    public static bool IsTransientStatus(int status, bool repeatable) =>
        status is 429 or 502 or 503 or 504 || (status == 500 && repeatable);

    /// <summary>The server's Retry-After (RFC 9110 section 10.2.3), as seconds or a date; null when absent.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        RetryConditionHeaderValue? header = response.Headers.RetryAfter;
        TimeSpan? wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return wait is null ? null : wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }
}
