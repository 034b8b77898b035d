using Xunit;

namespace StitchMtls.Tests;

public class GraphQLResponseTests
{
    [Fact]
    public void ReadsDataAndErrorsWithTheirPathAndCode()
    {
        GraphQLResponse response = GraphQLResponse.Parse("{\"data\":{\"node\":null},\"errors\":[{\"message\":" +
            "\"No such thing\",\"path\":[\"node\",\"items\",0],\"extensions\":{\"code\":\"NOT_FOUND\"}}]}")!;

        Assert.NotNull(response.Data);
        GraphQLError error = Assert.Single(response.Errors);
        Assert.Equal("No such thing", error.Message);
        Assert.Equal("node.items.0", error.Path);
        Assert.Equal("GraphQLNotFound", error.ErrorId);
        StitchMtlsException exception = error.ToException();
        Assert.Equal(FailureCategory.ObjectNotFound, exception.Category);
        Assert.Equal("node.items.0", exception.Target);
        Assert.Contains("No such thing", exception.Message);
    }

    [Theory]
    [InlineData("UNAUTHENTICATED", "GraphQLUnauthenticated")]
    [InlineData("GRAPHQL_VALIDATION_FAILED", "GraphQLValidationFailed")]
    [InlineData("GRAPHQL_PARSE_FAILED", "GraphQLParseFailed")]
    [InlineData("BAD_USER_INPUT", "GraphQLBadUserInput")]
    [InlineData(null, "GraphQLError")]
    public void NamesTheErrorIdAfterTheCode(string? code, string errorId)
    {
        Assert.Equal(errorId, new GraphQLError("m", null, code).ErrorId);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"error\":\"invalid_token\"}")]
    public void ReturnsNullForWhatIsNotAGraphQLResponse(string body)
    {
        Assert.Null(GraphQLResponse.Parse(body));
    }

    [Fact]
    public void SeesAnUnauthenticatedAnswer()
    {
        Assert.True(GraphQLResponse.Parse(
            "{\"errors\":[{\"message\":\"x\",\"extensions\":{\"code\":\"UNAUTHENTICATED\"}}]}")!.IsUnauthenticated);
    }
}
