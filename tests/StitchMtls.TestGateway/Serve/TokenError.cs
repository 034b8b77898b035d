using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace StitchMtls.TestGateway.Serve;

/// <summary>An error response of the token endpoint (RFC 6749, section 5.2).</summary>
internal sealed class TokenError
{
    private TokenError(int statusCode, string error, string description)
    {
        StatusCode = statusCode;
        Body = new ErrorBody(error, description);
    }

    public int StatusCode { get; }

    public ErrorBody Body { get; }

    /// <summary>A parameter is missing, repeated or has a value the server does not accept.</summary>
    public static TokenError InvalidRequest(string description) =>
        new(StatusCodes.Status400BadRequest, "invalid_request", description);

    /// <summary>The client_id and client_secret do not match a registered client.</summary>
    public static TokenError InvalidClient(string description) =>
        new(StatusCodes.Status401Unauthorized, "invalid_client", description);

    public static TokenError UnsupportedGrantType(string description) =>
        new(StatusCodes.Status400BadRequest, "unsupported_grant_type", description);

    public static TokenError InvalidScope(string description) =>
        new(StatusCodes.Status400BadRequest, "invalid_scope", description);

    /// <summary>
    /// Any OAuth error code, as a test asks for it: 401 for invalid_client, 500 for server_error, 503 for
    /// temporarily_unavailable (the transient codes of RFC 6749 section 4.1.2.1, as token endpoints send them),
    /// else 400.
    /// </summary>
    public static TokenError Of(string error, string description) => new(error switch
    {
        "invalid_client" => StatusCodes.Status401Unauthorized,
        "server_error" => StatusCodes.Status500InternalServerError,
        "temporarily_unavailable" => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status400BadRequest,
    }, error, description);

    public sealed record ErrorBody(
        [property: JsonPropertyName("error")] string Error,
        [property: JsonPropertyName("error_description")] string Description);
}
