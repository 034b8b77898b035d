namespace StitchMtls.TestGateway.Serve;

/// <summary>What the API endpoints (<c>/graphql</c>, <c>/v2/...</c>) do wrong, for retry tests.</summary>
internal enum ApiFault
{
    None,

    /// <summary>The first API request gets 429 with <c>Retry-After: 1</c>; the rest are served.</summary>
    TooManyRequestsOnce,

    /// <summary>The first API request gets 503; the rest are served.</summary>
    ServiceUnavailableOnce,

    /// <summary><c>/graphql</c> answers every request with an UNAUTHENTICATED error, whatever the token.</summary>
    Unauthenticated,
}
