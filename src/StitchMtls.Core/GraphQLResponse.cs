using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace StitchMtls;

/// <summary>A GraphQL request (GraphQL over HTTP: query, variables, operationName).</summary>
public sealed class GraphQLRequest
{
    public required string Query { get; init; }

    /// <summary>Plain .NET values: dictionaries, lists, strings, numbers, booleans and null.</summary>
    public IReadOnlyDictionary<string, object?>? Variables { get; init; }

    public string? OperationName { get; init; }
}

/// <summary>One entry of a GraphQL response's <c>errors</c> array.</summary>
public sealed class GraphQLError
{
    public GraphQLError(string message, string? path, string? code)
    {
        Message = message;
        Path = path;
        Code = code;
    }

    public string Message { get; }

    /// <summary>The path of the field that failed, dotted (<c>node.amount</c>), or null for a request error.</summary>
    public string? Path { get; }

    /// <summary><c>extensions.code</c>, such as <c>UNAUTHENTICATED</c>, when the server gives one.</summary>
    public string? Code { get; }

    /// <summary>
    /// <c>GraphQL</c> and the code in PascalCase (<c>GraphQLNotFound</c>), without repeating a <c>GRAPHQL_</c>
    /// prefix of the code (<c>GRAPHQL_VALIDATION_FAILED</c> gives <c>GraphQLValidationFailed</c>);
    /// <c>GraphQLError</c> without a code.
    /// </summary>
    public string ErrorId => Code is null ? "GraphQLError" : "GraphQL" + ConnectionDiagnosis.ToPascalCase(
        Code.StartsWith("GRAPHQL_", StringComparison.OrdinalIgnoreCase) ? Code["GRAPHQL_".Length..] : Code);

    public override string ToString() => Path is null ? Message : $"{Message} (path: {Path})";

    /// <summary>The error as the exception the cmdlet layer writes, with the path as its target.</summary>
    public StitchMtlsException ToException()
    {
        FailureCategory category = Code switch
        {
            "UNAUTHENTICATED" => FailureCategory.AuthenticationError,
            "FORBIDDEN" => FailureCategory.PermissionDenied,
            "NOT_FOUND" => FailureCategory.ObjectNotFound,
            "GRAPHQL_VALIDATION_FAILED" or "GRAPHQL_PARSE_FAILED" or "BAD_USER_INPUT" or "BAD_REQUEST" =>
                FailureCategory.InvalidArgument,
            _ => FailureCategory.InvalidResult,
        };
        string where = Path is null ? string.Empty : $" at '{Path}'";
        string code = Code is null ? string.Empty : $" ({Code})";
        return new StitchMtlsException(ErrorId, category, $"GraphQL error{where}: {Message}{code}", Path);
    }
}

/// <summary>What a GraphQL call returned: the data, the errors, or both (a partial result).</summary>
public sealed class GraphQLResponse
{
    public GraphQLResponse(JsonElement? data, IReadOnlyList<GraphQLError> errors)
    {
        Data = data;
        Errors = errors;
    }

    /// <summary>The <c>data</c> member; null when absent or null.</summary>
    public JsonElement? Data { get; }

    public IReadOnlyList<GraphQLError> Errors { get; }

    public bool IsUnauthenticated => Errors.Any(error => error.Code == "UNAUTHENTICATED");

    /// <summary>Reads a response body; null when it is not a GraphQL response object.</summary>
    public static GraphQLResponse? Parse(string body)
    {
        JsonElement root;
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object
            || !(root.TryGetProperty("data", out _) || root.TryGetProperty("errors", out _)))
        {
            return null;
        }

        JsonElement? data = root.TryGetProperty("data", out JsonElement found) && found.ValueKind != JsonValueKind.Null
            ? found
            : null;
        var errors = new List<GraphQLError>();
        if (root.TryGetProperty("errors", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement error in list.EnumerateArray())
            {
                errors.Add(ReadError(error));
            }
        }

        return new GraphQLResponse(data, errors);
    }

    private static GraphQLError ReadError(JsonElement error)
    {
        if (error.ValueKind != JsonValueKind.Object)
        {
            return new GraphQLError(error.ToString(), null, null);
        }

        string message = error.TryGetProperty("message", out JsonElement text) && text.ValueKind == JsonValueKind.String
            ? text.GetString()!
            : "The server reported an error without a message.";
        string? path = error.TryGetProperty("path", out JsonElement segments)
            && segments.ValueKind == JsonValueKind.Array
            ? string.Join(".", segments.EnumerateArray().Select(segment => segment.ToString()))
            : null;
        string? code = error.TryGetProperty("extensions", out JsonElement extensions)
            && extensions.ValueKind == JsonValueKind.Object
            && extensions.TryGetProperty("code", out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
        return new GraphQLError(message, path, code);
    }
}

/// <summary>What a REST call returned.</summary>
public sealed class RestResponse
{
    public RestResponse(int statusCode, JsonElement? json, string text)
    {
        StatusCode = statusCode;
        Json = json;
        Text = text;
    }

    public int StatusCode { get; }

    /// <summary>The body as JSON; null when it is empty or not JSON.</summary>
    public JsonElement? Json { get; }

    public string Text { get; }
}
