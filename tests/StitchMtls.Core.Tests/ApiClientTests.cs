using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace StitchMtls.Tests;

public class ApiClientTests
{
    private const string TokenBody =
        "{\"access_token\":\"tok-{0}\",\"expires_in\":3600,\"token_type\":\"Bearer\",\"scope\":\"client_refund\"}";

    private const string Unauthenticated =
        "{\"errors\":[{\"message\":\"expired\",\"extensions\":{\"code\":\"UNAUTHENTICATED\"}}]}";

    private const string Typename = "{\"data\":{\"__typename\":\"Query\"}}";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task TwentyCallsShareOneConnection()
    {
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ => new LoopbackResponse(200, Typename)));
        (StitchApiClient client, AccessTokenProvider tokens) = CreateClient(server);

        for (int call = 0; call < 20; call++)
        {
            GraphQLResponse response = await client.QueryAsync(Query(), CancellationToken.None);
            Assert.Equal("Query", response.Data!.Value.GetProperty("__typename").GetString());
        }

        Assert.Equal(1, server.Connections);
        Assert.Equal(1, tokens.Pool.HandshakeCount);
        Assert.Single(server.Requests, request => request.Path == "/connect/token");
    }

    [Fact]
    public async Task RenewsARefusedTokenAndRetriesOnce()
    {
        int graphql = 0;
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ =>
            Interlocked.Increment(ref graphql) == 1 ? new LoopbackResponse(200, Unauthenticated)
                : new LoopbackResponse(200, Typename)));
        (StitchApiClient client, _) = CreateClient(server);

        GraphQLResponse response = await client.QueryAsync(Query(), CancellationToken.None);

        Assert.Empty(response.Errors);
        Assert.Equal(2, server.Requests.Count(request => request.Path == "/connect/token"));
        string[] bearers = server.Requests.Where(request => request.Path == "/graphql")
            .Select(request => request.Authorization!).ToArray();
        Assert.Equal(2, bearers.Length);
        Assert.NotEqual(bearers[0], bearers[1]);
    }

    [Fact]
    public async Task RetriesARefusedTokenNoMoreThanOnce()
    {
        using var server = new LoopbackApiServer(TestPki.Shared,
            Answer(_ => new LoopbackResponse(200, Unauthenticated)));
        (StitchApiClient client, _) = CreateClient(server);

        GraphQLResponse response = await client.QueryAsync(Query(), CancellationToken.None);

        Assert.True(response.IsUnauthenticated);
        Assert.Equal("GraphQLUnauthenticated", response.Errors[0].ErrorId);
        Assert.Equal(2, server.Requests.Count(request => request.Path == "/graphql"));
    }

    [Theory]
    [InlineData(503, null)]
    [InlineData(429, "0")]
    [InlineData(502, null)]
    public async Task RetriesATransientStatusThenSucceeds(int status, string? retryAfter)
    {
        int graphql = 0;
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ =>
            Interlocked.Increment(ref graphql) == 1 ? new LoopbackResponse(status, "{}", retryAfter)
                : new LoopbackResponse(200, Typename)));
        (StitchApiClient client, _) = CreateClient(server);

        GraphQLResponse response = await client.QueryAsync(Query(), CancellationToken.None);

        Assert.Equal("Query", response.Data!.Value.GetProperty("__typename").GetString());
        Assert.Equal(2, graphql);
    }

    [Fact]
    public async Task StopsAfterTheBoundedNumberOfRetries()
    {
        int graphql = 0;
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ =>
        {
            Interlocked.Increment(ref graphql);
            return new LoopbackResponse(503, "{}");
        }));
        (StitchApiClient client, _) = CreateClient(server);

        var failure = await Assert.ThrowsAsync<StitchMtlsException>(() =>
            client.QueryAsync(Query(), CancellationToken.None));

        Assert.Equal("ApiServerError", failure.ErrorId);
        Assert.Equal(1 + StitchApiClient.MaxRetries, graphql);
    }

    [Fact]
    public async Task DoesNotWaitForARetryAfterLongerThanTheLimit()
    {
        using var server = new LoopbackApiServer(TestPki.Shared,
            Answer(_ => new LoopbackResponse(429, "{}", "3600")));
        (StitchApiClient client, _) = CreateClient(server);

        var failure = await Assert.ThrowsAsync<StitchMtlsException>(() =>
            client.QueryAsync(Query(), CancellationToken.None));

        Assert.Equal("ApiThrottled", failure.ErrorId);
        Assert.Single(server.Requests, request => request.Path == "/graphql");
    }

    [Theory]
    [InlineData("POST", 1)]
    [InlineData("GET", 1 + StitchApiClient.MaxRetries)]
    public async Task RetriesA500OnlyWhereRepeatingIsHarmless(string method, int expectedCalls)
    {
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ => new LoopbackResponse(500, "{}")));
        (StitchApiClient client, _) = CreateClient(server);

        var failure = await Assert.ThrowsAsync<StitchMtlsException>(() =>
            client.SendAsync(new HttpMethod(method), "/v2/thing", method == "POST" ? "{}" : null,
                CancellationToken.None));

        Assert.Equal("ApiServerError", failure.ErrorId);
        Assert.Equal(expectedCalls, server.Requests.Count(request => request.Path == "/v2/thing"));
    }

    [Fact]
    public async Task CachesTheTokenUntilForced()
    {
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ => new LoopbackResponse(200, Typename)));
        (_, AccessTokenProvider tokens) = CreateClient(server);

        StitchAccessToken first = await tokens.GetAsync(false, s_timeout, NullOperationLog.Instance, default);
        StitchAccessToken second = await tokens.GetAsync(false, s_timeout, NullOperationLog.Instance, default);
        StitchAccessToken forced = await tokens.GetAsync(true, s_timeout, NullOperationLog.Instance, default);

        Assert.Same(first, second);
        Assert.NotSame(first, forced);
        Assert.Equal(2, server.Requests.Count(request => request.Path == "/connect/token"));
        Assert.DoesNotContain("tok-", first.ToString());
        Assert.Equal(DateTimeKind.Utc, first.ExpiresOn.Kind);
    }

    [Fact]
    public async Task ForgettingACertificateRefusesItsTokensAndClosesItsPool()
    {
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ => new LoopbackResponse(200, Typename)));
        (StitchApiClient client, AccessTokenProvider tokens) = CreateClient(server);
        StitchAccessToken token = await tokens.GetAsync(false, s_timeout, NullOperationLog.Instance, default);
        await client.QueryAsync(Query(), CancellationToken.None);
        int requests = server.Requests.Count;

        int dropped = AccessTokenProvider.Forget(token.CertificateThumbprint.ToLowerInvariant());

        Assert.Equal(2, dropped);
        Assert.True(tokens.Pool.IsForgotten);
        var refused = await Assert.ThrowsAsync<StitchMtlsException>(() =>
            new StitchApiClient(tokens, StitchEndpoint.Resolve(server.Uri.ToString()), s_timeout,
                NullOperationLog.Instance, token).QueryAsync(Query(), CancellationToken.None));
        Assert.Equal("ClientCertificateRemoved", refused.ErrorId);
        Assert.Contains(token.CertificateThumbprint, refused.Message);
        var renewal = await Assert.ThrowsAsync<StitchMtlsException>(() =>
            tokens.GetAsync(true, s_timeout, NullOperationLog.Instance, default));
        Assert.Equal("ClientCertificateRemoved", renewal.ErrorId);
        Assert.Equal(requests, server.Requests.Count);
        Assert.Equal(0, AccessTokenProvider.Forget(token.CertificateThumbprint));
    }

    [Fact]
    public async Task TurnsAnOAuthErrorIntoItsErrorId()
    {
        using var server = new LoopbackApiServer(TestPki.Shared, request => new LoopbackResponse(401,
            "{\"error\":\"invalid_client\",\"error_description\":\"bad secret s3cret-value\"}"));
        (_, AccessTokenProvider tokens) = CreateClient(server, secret: "s3cret-value");

        var failure = await Assert.ThrowsAsync<StitchMtlsException>(() =>
            tokens.GetAsync(false, s_timeout, NullOperationLog.Instance, default));

        Assert.Equal("TokenInvalidClient", failure.ErrorId);
        Assert.Equal(FailureCategory.AuthenticationError, failure.Category);
        Assert.DoesNotContain("s3cret-value", failure.Message);
    }

    [Fact]
    public void RefusesAProviderWithoutCredentials()
    {
        using ClientCertificate certificate = NewClientCertificate();
        MtlsConnectionPool pool = MtlsConnectionPool.ForSession(new MtlsConnectionSettings
        {
            Certificate = certificate,
            NoProxy = true,
        });

        var failure = Assert.Throws<StitchMtlsException>(() => new AccessTokenProvider(new AccessTokenRequest
        {
            Endpoint = StitchEndpoint.Resolve("Secure"),
            ClientId = "client",
        }, pool));
        Assert.Equal("CredentialMissing", failure.ErrorId);
        Assert.Equal("EndpointHasNoTokenEndpoint", Assert.Throws<StitchMtlsException>(() =>
            new AccessTokenProvider(new AccessTokenRequest
            {
                Endpoint = StitchEndpoint.Resolve("Api"),
                ClientId = "client",
                ClientSecret = "secret",
            }, pool)).ErrorId);
    }

    [Fact]
    public async Task GivesTheCachedTokenOnlyToACallerHoldingTheAssertionKey()
    {
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ => new LoopbackResponse(200, Typename)));
        MtlsConnectionPool pool = NewPool();
        using var key = RSA.Create(2048);
        using X509Certificate2 publicOnly = TestPki.Shared.IssueLeaf(key, "jwt.example.com");
        using X509Certificate2 withKey = publicOnly.CopyWithPrivateKey(key);
        StitchEndpoint endpoint = StitchEndpoint.Resolve(server.Uri.ToString());
        AccessTokenRequest Request(X509Certificate2 certificate) => new()
        {
            Endpoint = endpoint,
            ClientId = "client",
            AssertionCertificate = certificate,
        };
        await new AccessTokenProvider(Request(withKey), pool).GetAsync(false, s_timeout, NullOperationLog.Instance,
            default);

        var failure = Assert.Throws<StitchMtlsException>(() => new AccessTokenProvider(Request(publicOnly), pool));

        Assert.Equal("ClientAssertionKeyMissing", failure.ErrorId);
        Assert.Single(server.Requests, request => request.Path == "/connect/token");
    }

    [Fact]
    public async Task KeysTheCachedTokenByTheConnectionSettingsToo()
    {
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ => new LoopbackResponse(200, Typename)));
        using var key = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "api-test.example.com");
        using X509Certificate2 withKey = leaf.CopyWithPrivateKey(key);
        MtlsConnectionPool PoolTrusting(params X509Certificate2[] authorities) => MtlsConnectionPool.ForSession(
            new MtlsConnectionSettings
            {
                Certificate = ClientCertificate.FromCertificate(new X509Certificate2(withKey),
                    new[] { TestPki.Shared.Intermediate }),
                ServerCertificateAuthority = new X509Certificate2Collection(authorities),
                NoProxy = true,
            });
        StitchEndpoint endpoint = StitchEndpoint.Resolve(server.Uri.ToString());
        var request = new AccessTokenRequest { Endpoint = endpoint, ClientId = "client", ClientSecret = "secret" };

        StitchAccessToken first = await new AccessTokenProvider(request, PoolTrusting(TestPki.Shared.Root))
            .GetAsync(false, s_timeout, NullOperationLog.Instance, default);
        StitchAccessToken again = await new AccessTokenProvider(request, PoolTrusting(TestPki.Shared.Root))
            .GetAsync(false, s_timeout, NullOperationLog.Instance, default);
        StitchAccessToken other = await new AccessTokenProvider(request,
            PoolTrusting(TestPki.Shared.Root, TestPki.Shared.Intermediate))
            .GetAsync(false, s_timeout, NullOperationLog.Instance, default);

        Assert.Same(first, again);
        Assert.NotSame(first, other);
        Assert.Equal(2, server.Requests.Count(request => request.Path == "/connect/token"));
    }

    [Theory]
    [InlineData(500, "server_error")]
    [InlineData(503, "temporarily_unavailable")]
    [InlineData(400, "temporarily_unavailable")]
    [InlineData(503, null)]
    public async Task RetriesATransientTokenFailureThenSucceeds(int status, string? code)
    {
        int requests = 0;
        using var server = new LoopbackApiServer(TestPki.Shared, request =>
            Interlocked.Increment(ref requests) == 1
                ? new LoopbackResponse(status, code is null ? "{}" : $"{{\"error\":\"{code}\"}}")
                : new LoopbackResponse(200, TokenBody.Replace("{0}", "1")));
        AccessTokenProvider tokens = NewTokenProvider(server);
        var log = new RecordingLog();

        StitchAccessToken token = await tokens.GetAsync(false, s_timeout, log, default);

        Assert.Equal("client_refund", token.Scope);
        Assert.Equal(2, requests);
        Assert.Contains(log.VerboseMessages, message =>
            message.StartsWith($"HTTP {status}", StringComparison.Ordinal) && message.Contains("retry 1 of 3"));
    }

    [Theory]
    [InlineData("server_error", "TokenServerError")]
    [InlineData("temporarily_unavailable", "TokenTemporarilyUnavailable")]
    public async Task ReportsATransientTokenFailureAsUnavailableAfterTheRetries(string code, string errorId)
    {
        using var server = new LoopbackApiServer(TestPki.Shared,
            _ => new LoopbackResponse(503, $"{{\"error\":\"{code}\"}}"));
        AccessTokenProvider tokens = NewTokenProvider(server);

        var failure = await Assert.ThrowsAsync<StitchMtlsException>(() =>
            tokens.GetAsync(false, s_timeout, NullOperationLog.Instance, default));

        Assert.Equal(errorId, failure.ErrorId);
        Assert.Equal(FailureCategory.ResourceUnavailable, failure.Category);
        Assert.Contains("Try again later", failure.Message);
        Assert.Equal(1 + StitchApiClient.MaxRetries, server.Requests.Count);
    }

    [Theory]
    [InlineData("weird_custom_error", "TokenRequestFailed", FailureCategory.InvalidOperation)]
    [InlineData("invalid_grant", "TokenInvalidGrant", FailureCategory.AuthenticationError)]
    [InlineData("access_denied", "TokenAccessDenied", FailureCategory.PermissionDenied)]
    [InlineData("invalid_request", "TokenInvalidRequest", FailureCategory.InvalidArgument)]
    public async Task NamesOnlyRfcErrorCodesInTheErrorId(string code, string errorId, FailureCategory category)
    {
        using var server = new LoopbackApiServer(TestPki.Shared,
            _ => new LoopbackResponse(400, $"{{\"error\":\"{code}\"}}"));
        AccessTokenProvider tokens = NewTokenProvider(server);

        var failure = await Assert.ThrowsAsync<StitchMtlsException>(() =>
            tokens.GetAsync(false, s_timeout, NullOperationLog.Instance, default));

        Assert.Equal(errorId, failure.ErrorId);
        Assert.Equal(category, failure.Category);
        Assert.Contains(code, failure.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task NamesTheAssertionCertificateWhenPrivateKeyJwtIsRefused()
    {
        using var server = new LoopbackApiServer(TestPki.Shared, _ => new LoopbackResponse(401,
            "{\"error\":\"invalid_client\",\"error_description\":\"signature does not verify\"}"));
        using var key = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "jwt.example.com");
        using X509Certificate2 signing = leaf.CopyWithPrivateKey(key);
        var tokens = new AccessTokenProvider(new AccessTokenRequest
        {
            Endpoint = StitchEndpoint.Resolve(server.Uri.ToString()),
            ClientId = "client",
            AssertionCertificate = signing,
        }, NewPool());

        var failure = await Assert.ThrowsAsync<StitchMtlsException>(() =>
            tokens.GetAsync(false, s_timeout, NullOperationLog.Instance, default));

        Assert.Equal("TokenInvalidClient", failure.ErrorId);
        Assert.Contains("-ClientAssertionCertificate", failure.Message);
        Assert.Contains(signing.Thumbprint, failure.Message);
        Assert.DoesNotContain("-Credential", failure.Message);
        Assert.DoesNotContain("secret", failure.Message);
    }

    [Fact]
    public async Task WarnsThatTheAssertionCertificateHasExpired()
    {
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ => new LoopbackResponse(200, Typename)));
        using var key = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "jwt.example.com",
            DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        using X509Certificate2 signing = leaf.CopyWithPrivateKey(key);
        var tokens = new AccessTokenProvider(new AccessTokenRequest
        {
            Endpoint = StitchEndpoint.Resolve(server.Uri.ToString()),
            ClientId = "client",
            AssertionCertificate = signing,
        }, NewPool());
        var log = new RecordingLog();

        await tokens.GetAsync(false, s_timeout, log, default);

        string warning = Assert.Single(log.Warnings);
        Assert.Contains($"expired on {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z", warning);
        Assert.Contains(leaf.Thumbprint, warning);
    }

    [Fact]
    public async Task RefusesVariablesJsonCannotHoldWithAStableErrorId()
    {
        using var server = new LoopbackApiServer(TestPki.Shared, Answer(_ => new LoopbackResponse(200, Typename)));
        (StitchApiClient client, _) = CreateClient(server);
        var request = new GraphQLRequest
        {
            Query = "{ __typename }",
            Variables = new Dictionary<string, object?> { ["amount"] = double.NaN },
        };

        var failure = await Assert.ThrowsAsync<StitchMtlsException>(() =>
            client.QueryAsync(request, CancellationToken.None));

        Assert.Equal("JsonValueNotSerializable", failure.ErrorId);
        Assert.Equal(FailureCategory.InvalidArgument, failure.Category);
        Assert.Empty(server.Requests);
    }

    private static Func<LoopbackRequest, LoopbackResponse> Answer(Func<LoopbackRequest, LoopbackResponse> api)
    {
        int issued = 0;
        return request => request.Path == "/connect/token"
            ? new LoopbackResponse(200, TokenBody.Replace("{0}", Interlocked.Increment(ref issued).ToString()))
            : api(request);
    }

    private static GraphQLRequest Query() => new() { Query = "{ __typename }" };

    private static (StitchApiClient Client, AccessTokenProvider Tokens) CreateClient(LoopbackApiServer server,
        string secret = "secret")
    {
        MtlsConnectionPool pool = MtlsConnectionPool.ForSession(new MtlsConnectionSettings
        {
            Certificate = NewClientCertificate(),
            ServerCertificateAuthority = new X509Certificate2Collection(TestPki.Shared.Root),
            NoProxy = true,
        });
        StitchEndpoint endpoint = StitchEndpoint.Resolve(server.Uri.ToString());
        var tokens = new AccessTokenProvider(new AccessTokenRequest
        {
            Endpoint = endpoint,
            ClientId = "client",
            ClientSecret = secret,
            Scopes = new[] { "client_refund" },
        }, pool);
        var client = new StitchApiClient(tokens, endpoint, s_timeout, NullOperationLog.Instance,
            backoff: TimeSpan.FromMilliseconds(10));
        return (client, tokens);
    }

    private static MtlsConnectionPool NewPool() => MtlsConnectionPool.ForSession(new MtlsConnectionSettings
    {
        Certificate = NewClientCertificate(),
        ServerCertificateAuthority = new X509Certificate2Collection(TestPki.Shared.Root),
        NoProxy = true,
    });

    private static AccessTokenProvider NewTokenProvider(LoopbackApiServer server) => new(new AccessTokenRequest
    {
        Endpoint = StitchEndpoint.Resolve(server.Uri.ToString()),
        ClientId = "client",
        ClientSecret = "secret",
        Scopes = new[] { "client_refund" },
    }, NewPool())
    {
        RetryBackoff = TimeSpan.FromMilliseconds(10),
    };

    /// <summary>A new leaf each time, so each test has a pool and a token cache entry of its own.</summary>
    private static ClientCertificate NewClientCertificate()
    {
        using var key = RSA.Create(2048);
        using X509Certificate2 leaf = TestPki.Shared.IssueLeaf(key, "api-test.example.com");
        return ClientCertificate.FromCertificate(leaf.CopyWithPrivateKey(key), new[] { TestPki.Shared.Intermediate });
    }
}
