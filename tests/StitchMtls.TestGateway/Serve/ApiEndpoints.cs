using System;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// The API behind the gateway, as far as StitchMtls needs one: <c>POST /graphql</c> (GraphQL over HTTP, JSON) and
/// two REST paths, all with a bearer token from <see cref="TokenEndpoint"/>; plus <c>POST /test/expire-tokens</c>,
/// the test's way to make the tokens a client holds expire.
/// </summary>
/// <remarks>
/// Like Stitch, <c>/graphql</c> answers a missing, unknown or expired token with HTTP 200 and an error whose
/// <c>extensions.code</c> is UNAUTHENTICATED, not with 401. It answers two queries: <c>{ __typename }</c> and
/// <see cref="PaymentRequestQuery"/>; anything else gets 400 with GRAPHQL_VALIDATION_FAILED.
/// </remarks>
internal sealed class ApiEndpoints
{
    public const string GraphQLPath = "/graphql";

    public const string PaymentRequestQuery =
        "query PaymentRequest($id: ID!) { node(id: $id) { ... on PaymentInitiationRequest { id status amount " +
        "{ quantity currency } } } }";

    /// <summary>The one payment request the fixed query finds; any other id gives NOT_FOUND at path node.</summary>
    public const string KnownPaymentRequestId = "pr_test_1";

    private readonly IssuedTokens _tokens;
    private readonly ApiFault _fault;
    private int _faultsLeft = 1;

    public ApiEndpoints(IssuedTokens tokens, ApiFault fault)
    {
        _tokens = tokens;
        _fault = fault;
    }

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapPost(GraphQLPath, (RequestDelegate)GraphQLAsync);
        app.MapGet("/v2/ping", (RequestDelegate)PingAsync);
        app.MapPost("/v2/echo", (RequestDelegate)EchoAsync);
        app.MapPost("/test/expire-tokens", (RequestDelegate)ExpireTokens);
    }

    private async Task GraphQLAsync(HttpContext context)
    {
        if (await TryFaultAsync(context))
        {
            return;
        }

        if (_fault == ApiFault.Unauthenticated || !_tokens.IsValid(BearerToken(context.Request)))
        {
            await WriteAsync(context, 200, Errors("The access token is missing, invalid or expired.", null,
                "UNAUTHENTICATED"));
            return;
        }

        JsonElement request;
        try
        {
            using JsonDocument document = await JsonDocument.ParseAsync(context.Request.Body,
                cancellationToken: context.RequestAborted);
            request = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            await WriteAsync(context, 400, Errors("The body is not JSON.", null, "BAD_REQUEST"));
            return;
        }

        string query = request.ValueKind == JsonValueKind.Object && request.TryGetProperty("query", out JsonElement q)
            && q.ValueKind == JsonValueKind.String ? Regex.Replace(q.GetString()!, @"\s+", " ").Trim() : string.Empty;
        if (query is "{ __typename }" or "query { __typename }")
        {
            await WriteAsync(context, 200, new { data = new { __typename = "Query" } });
            return;
        }

        if (query == PaymentRequestQuery)
        {
            await WriteAsync(context, 200, PaymentRequest(request));
            return;
        }

        await WriteAsync(context, 400, Errors("The local gateway answers only '{ __typename }' and the " +
            "PaymentRequest query.", null, "GRAPHQL_VALIDATION_FAILED"));
    }

    private static object PaymentRequest(JsonElement request)
    {
        string? id = request.TryGetProperty("variables", out JsonElement variables)
            && variables.ValueKind == JsonValueKind.Object && variables.TryGetProperty("id", out JsonElement value)
            && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (id == KnownPaymentRequestId)
        {
            return new
            {
                data = new
                {
                    node = new
                    {
                        id,
                        status = "PaymentInitiationCompleted",
                        amount = new { quantity = 125.5m, currency = "ZAR" },
                    },
                },
            };
        }

        return new
        {
            data = new { node = (object?)null },
            errors = new[]
            {
                new
                {
                    message = $"No payment request has the id '{id}'.",
                    path = new[] { "node" },
                    extensions = new { code = "NOT_FOUND" },
                },
            },
        };
    }

    private async Task PingAsync(HttpContext context)
    {
        if (await TryFaultAsync(context) || await RefuseUnauthenticatedAsync(context))
        {
            return;
        }

        string? commonName = ClientIdentity.CommonNameOf(context.Connection.ClientCertificate);
        await WriteAsync(context, 200, new { status = "ok", clientCommonName = commonName });
    }

    private async Task EchoAsync(HttpContext context)
    {
        if (await TryFaultAsync(context) || await RefuseUnauthenticatedAsync(context))
        {
            return;
        }

        try
        {
            using JsonDocument document = await JsonDocument.ParseAsync(context.Request.Body,
                cancellationToken: context.RequestAborted);
            await WriteAsync(context, 200, new { received = document.RootElement.Clone() });
        }
        catch (JsonException)
        {
            await WriteAsync(context, 400, new { error = "invalid_json", error_description = "The body is not JSON." });
        }
    }

    private Task ExpireTokens(HttpContext context)
    {
        _tokens.ExpireAll();
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private async Task<bool> RefuseUnauthenticatedAsync(HttpContext context)
    {
        if (_tokens.IsValid(BearerToken(context.Request)))
        {
            return false;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        await WriteAsync(context, 401, new
        {
            error = "invalid_token",
            error_description = "The access token is missing, invalid or expired.",
        });
        return true;
    }

    /// <summary>The once-only fault modes: the first API request of the gateway's life gets the fault.</summary>
    private async Task<bool> TryFaultAsync(HttpContext context)
    {
        if (_fault is not (ApiFault.TooManyRequestsOnce or ApiFault.ServiceUnavailableOnce)
            || Interlocked.Exchange(ref _faultsLeft, 0) == 0)
        {
            return false;
        }

        if (_fault == ApiFault.TooManyRequestsOnce)
        {
            context.Response.Headers.RetryAfter = "1";
            await WriteAsync(context, 429, new { error = "too_many_requests" });
        }
        else
        {
            await WriteAsync(context, 503, new { error = "service_unavailable" });
        }

        return true;
    }

    private static string? BearerToken(HttpRequest request)
    {
        string header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header.Substring(7).Trim() : null;
    }

    private static object Errors(string message, string[]? path, string code) =>
        new { errors = new[] { new { message, path, extensions = new { code } } } };

    private static Task WriteAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(body, context.RequestAborted);
    }
}
