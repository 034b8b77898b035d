using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using StitchMtls.Platform;

namespace StitchMtls;

/// <summary>Client credentials for the token request: user name = client_id, password = client_secret.</summary>
public sealed record ClientCredential(string ClientId, string ClientSecret)
{
    public override string ToString() => $"ClientCredential {{ ClientId = {ClientId} }}";
}

/// <summary>What to test, with what.</summary>
public sealed class ConnectionTestOptions
{
    public required StitchEndpoint Endpoint { get; init; }

    public required ClientCertificate Certificate { get; init; }

    /// <summary>CA certificates the server's certificate must chain to; the system trust store when null.</summary>
    public X509Certificate2Collection? ServerCertificateAuthority { get; init; }

    public ClientCredential? Credential { get; init; }

    public IReadOnlyList<string> Scopes { get; init; } = Array.Empty<string>();

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>An HTTP proxy to tunnel through; when null, the proxy HttpClient would pick (HTTPS_PROXY...).</summary>
    public Uri? Proxy { get; init; }

    public NetworkCredential? ProxyCredential { get; init; }

    /// <summary>Connect directly even where HTTPS_PROXY or the system settings name a proxy.</summary>
    public bool NoProxy { get; init; }

    /// <summary>
    /// Send the certificate even when the pre-flight check finds it unusable (to see the gateway's answer).
    /// </summary>
    public bool SkipPreFlight { get; init; }
}

/// <summary>
/// Tests an mTLS endpoint stage by stage (TCP connect, TLS handshake with the client chain, an HTTP request,
/// and optionally a client-credentials token request) and explains a failure the way the gateway documents it.
/// </summary>
/// <remarks>
/// The TLS handshake runs on our own <see cref="SslStream"/> inside the HTTP handler's connect callback, so each
/// stage is timed and classified separately. Under TLS 1.3 a rejected client certificate is reported only on the
/// first read after the handshake (RFC 8446 section 4.4.2.4); the alert is recognised there and reported as a
/// TLS failure, never as an HTTP one.
/// </remarks>
public sealed class ConnectionTest : IConnectionNarration
{
    private const int MaxResponseBytes = 1024 * 1024;

    private readonly ConnectionTestOptions _options;
    private readonly IOperationLog _log;
    private readonly List<ConnectionStageResult> _stages = new();
    private readonly Stopwatch _stageWatch = new();
    private ConnectionStage _current = ConnectionStage.Connect;
    private string? _remoteAddress;
    private string? _tlsProtocol;
    private Uri? _proxy;
    private MtlsConnector? _connector;

    private ConnectionTest(ConnectionTestOptions options, IOperationLog log)
    {
        _options = options;
        _log = log;
    }

    public static Task<StitchMtlsTestResult> RunAsync(ConnectionTestOptions options, IOperationLog log,
        CancellationToken cancellationToken = default)
    {
        return new ConnectionTest(options, log).RunAsync(cancellationToken);
    }

    private bool RequestsToken => _options.Credential is not null && _options.Endpoint.TokenUri is not null;

    private Uri Target => RequestsToken ? _options.Endpoint.TokenUri! : _options.Endpoint.MtlsUri;

    /// <summary>The documented address for Stitch's hosts; for any other endpoint, its own host.</summary>
    private string AddressToAllow =>
        StitchEndpoint.Documented.FirstOrDefault(endpoint => endpoint.MtlsUri.Host == Target.Host)?.IPAddress
        ?? Target.Host;

    private async Task<StitchMtlsTestResult> RunAsync(CancellationToken cancellationToken)
    {
        StitchMtlsTestResult? blocked = RunPreFlight();
        if (blocked is not null)
        {
            return blocked;
        }

        _proxy = ProxyTunnel.Choose(_options.Endpoint.MtlsUri, _options.Proxy, _options.NoProxy);
        _connector = new MtlsConnector(_options.Certificate, _options.ServerCertificateAuthority, _proxy,
            _options.ProxyCredential);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);

        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        using var client = new HttpClient(handler)
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = MaxResponseBytes,
        };
        using HttpRequestMessage request = CreateRequest();

        if (_options.Credential is not null && !RequestsToken)
        {
            _log.Verbose($"{_options.Endpoint.MtlsUri} serves no token endpoint; the token request is tested with " +
                "-Endpoint Secure.");
        }

        try
        {
            using HttpResponseMessage response = await client.SendAsync(request, timeout.Token).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            return InterpretResponse((int)response.StatusCode, body);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException
            or AuthenticationException or SocketException or ProxyTunnelException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            return InterpretFailure(ex, timedOut: timeout.IsCancellationRequested);
        }
    }

    /// <summary>The host the TCP connection goes to: the proxy when there is one, else the endpoint.</summary>
    private string ConnectHost => _proxy?.Host ?? Target.Host;

    private int ConnectPort => _proxy?.Port ?? Target.Port;

    private StitchMtlsTestResult? RunPreFlight()
    {
        Begin(ConnectionStage.PreFlight, $"Checking '{_options.Certificate.Leaf.Subject}' before any traffic.");
        PreFlightOutcome outcome = PreFlight.Check(_options.Certificate, DateTime.UtcNow);
        foreach (string warning in outcome.Warnings)
        {
            _log.Warning(warning);
        }

        if (outcome.FailureId is null)
        {
            Complete(outcome.Warnings.Count == 0 ? "The certificate, its key and its chain are usable."
                : string.Join(" ", outcome.Warnings));
            return null;
        }

        if (_options.SkipPreFlight)
        {
            _log.Warning($"Pre-flight found {outcome.FailureId}; connecting anyway because of -SkipPreFlight.");
            Complete($"{outcome.FailureId} ignored (-SkipPreFlight): {outcome.FailureText}");
            return null;
        }

        Fail(outcome.FailureText!);
        return Result(false, outcome.FailureId, outcome.FailureText!);
    }

    private HttpRequestMessage CreateRequest()
    {
        // The handler speaks plain HTTP over the stream our callback returns, which is already TLS; the Host
        // header keeps the https authority the server expects.
        var plainUri = new Uri($"http://{Target.Host}:{Target.Port}{Target.PathAndQuery}");
        HttpRequestMessage request;
        if (!RequestsToken)
        {
            request = new HttpRequestMessage(HttpMethod.Get, plainUri);
        }
        else
        {
            ClientCredential credential = _options.Credential!;
            var form = new List<KeyValuePair<string, string>>
            {
                new("client_id", credential.ClientId),
                new("client_secret", credential.ClientSecret),
                new("grant_type", "client_credentials"),
                new("audience", StitchEndpoint.TokenAudience),
            };
            if (_options.Scopes.Count > 0)
            {
                form.Add(new("scope", string.Join(' ', _options.Scopes)));
            }

            request = new HttpRequestMessage(HttpMethod.Post, plainUri) { Content = new FormUrlEncodedContent(form) };
        }

        request.Headers.Host = Target.Authority;
        request.Headers.UserAgent.ParseAdd("StitchMtls/" + typeof(ConnectionTest).Assembly.GetName().Version);
        return request;
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken token)
    {
        SslStream tls = await _connector!.ConnectAsync(Target.Host, Target.Port, this, token).ConfigureAwait(false);
        _tlsProtocol = MtlsConnector.DescribeProtocol(tls.SslProtocol);
        Begin(ConnectionStage.Http, $"Sending {(RequestsToken ? "POST" : "GET")} {Target.AbsolutePath}; the " +
            "first read also shows whether the gateway kept the client certificate (TLS 1.3 rejects it only now).");
        return tls;
    }

    void IConnectionNarration.Begin(ConnectionStage stage, string narration) => Begin(stage, narration);

    void IConnectionNarration.Complete(string detail) => Complete(detail);

    void IConnectionNarration.Warning(string message) => _log.Warning(message);

    void IConnectionNarration.Connected(string? remoteAddress) => _remoteAddress = remoteAddress;

    private StitchMtlsTestResult InterpretResponse(int status, string body)
    {
        if (status == 403 && body.Contains("RBAC: access denied", StringComparison.Ordinal))
        {
            Fail($"HTTP 403 'RBAC: access denied'.");
            return Result(false, "RbacDenied", ConnectionDiagnosis.RbacDenied(_options.Certificate,
                _options.Endpoint.MtlsUri.ToString()), status);
        }

        if (!RequestsToken && !IsAdmitted(status))
        {
            return HttpError(status, body);
        }

        if (!RequestsToken)
        {
            Complete($"HTTP {status}: the gateway admitted the client certificate.");
            return Result(true, "Success", $"The gateway accepted the client certificate " +
                $"'{_options.Certificate.Leaf.Subject}' over {_tlsProtocol} and answered HTTP {status}.", status);
        }

        if (status != 200 && !LooksLikeOAuthError(body))
        {
            return HttpError(status, body);
        }

        Complete($"HTTP {status} from the token endpoint.");
        Begin(ConnectionStage.Token, "Reading the token response.");
        return InterpretToken(status, body);
    }

    /// <summary>A status that shows the gateway let the request through; 404 and 405 only mean "not here".</summary>
    private static bool IsAdmitted(int status) => status is < 400 or 404 or 405;

    private static bool LooksLikeOAuthError(string body) =>
        body.TrimStart().StartsWith('{') && body.Contains("\"error\"", StringComparison.Ordinal);

    private StitchMtlsTestResult HttpError(int status, string body)
    {
        string excerpt = Redact(ConnectionDiagnosis.Excerpt(body));
        Fail($"HTTP {status}.");
        return Result(false, "HttpError", $"The gateway admitted the TLS connection but answered HTTP {status}" +
            (excerpt.Length == 0 ? "." : $": {excerpt}") + " If this persists, report it to Stitch with the time of " +
            "the attempt.", status);
    }

    private StitchMtlsTestResult InterpretToken(int status, string body)
    {
        // The access token is read only to confirm it is there; it is never stored, logged or returned.
        JsonElement json;
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            json = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            Fail($"HTTP {status} with a body that is not JSON.");
            return Result(false, "TokenResponseInvalid", $"The token endpoint answered HTTP {status} with a body " +
                "that is not an OAuth 2.0 JSON response. Check that -Endpoint points at Stitch's token host.", status);
        }

        if (status == 200 && json.ValueKind == JsonValueKind.Object && json.TryGetProperty("access_token", out _))
        {
            TimeSpan? lifetime = json.TryGetProperty("expires_in", out JsonElement expires)
                && expires.TryGetInt32(out int seconds) ? TimeSpan.FromSeconds(seconds) : null;
            Complete($"Received a {TokenType(json)} token valid for {lifetime?.TotalSeconds:0} s.");
            return Result(true, "Success", $"The gateway accepted the client certificate " +
                $"'{_options.Certificate.Leaf.Subject}' over {_tlsProtocol}, and the token request succeeded: the " +
                $"token is valid for {lifetime?.TotalSeconds:0} s.", status, lifetime);
        }

        string error = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out JsonElement code)
            ? code.GetString() ?? "unknown" : "unknown";
        string? description = json.ValueKind == JsonValueKind.Object
            && json.TryGetProperty("error_description", out JsonElement text) ? text.GetString() : null;
        (string id, string diagnosis) = ConnectionDiagnosis.ForOAuthError(Redact(error), Redact(description));
        Fail($"HTTP {status}, OAuth error '{error}'.");
        return Result(false, id, diagnosis, status);
    }

    private StitchMtlsTestResult InterpretFailure(Exception exception, bool timedOut)
    {
        if (timedOut)
        {
            return TimedOut();
        }

        if (ExceptionChain.Find<ProxyTunnelException>(exception) is { } proxyFailure)
        {
            Fail(proxyFailure.Message);
            return Result(false, proxyFailure.DiagnosisId, proxyFailure.Message, proxyFailure.Status);
        }

        if (_current is ConnectionStage.Resolve or ConnectionStage.Connect)
        {
            return ConnectFailed(exception);
        }

        if (ExceptionChain.Find<ServerCertificateException>(exception) is { } rejected)
        {
            return ServerCertificateRejected(rejected.Message);
        }

        int? alert = TlsPlatform.ReceivedAlert(exception);
        if (alert is not null)
        {
            string when = _current == ConnectionStage.Tls ? "during the handshake" : "after the handshake";
            FailStage(ConnectionStage.Tls,
                $"The server sent the TLS alert {ConnectionDiagnosis.AlertName(alert.Value)} " +
                $"{when}.");
            (string id, string text) = ConnectionDiagnosis.ForAlert(alert.Value, _options.Certificate);
            return Result(false, id, text);
        }

        if (_current == ConnectionStage.Tls)
        {
            FailStage(ConnectionStage.Tls, "The TLS handshake failed: " + ExceptionChain.Innermost(exception).Message);
            return Result(false, "HandshakeFailure", "The TLS handshake failed without a TLS alert (" +
                ExceptionChain.Innermost(exception).Message + "). Check that the endpoint speaks TLS 1.2 or 1.3 and " +
                "that no proxy or firewall interferes.");
        }

        if (_tlsProtocol == "TLS 1.3")
        {
            FailStage(ConnectionStage.Tls, "The server closed the connection after the handshake without a reply.");
            return Result(false, "ClosedAfterHandshake", "The server closed the connection right after the TLS 1.3 " +
                "handshake without answering, which is how a gateway that rejects the client certificate can " +
                "behave: check that the certificate chains to the CA Stitch issued it from.");
        }

        FailStage(_current, "The request failed: " + ExceptionChain.Innermost(exception).Message);
        return Result(false, "HttpError", $"The connection failed during the {_current} stage: " +
            ExceptionChain.Innermost(exception).Message);
    }

    private StitchMtlsTestResult ServerCertificateRejected(string problem)
    {
        FailStage(ConnectionStage.Tls, problem);
        if (_proxy is not null)
        {
            return Result(false, "ProxyInterceptsTls", problem + $" The connection went through " +
                $"the proxy {_proxy}, which appears to intercept TLS; that breaks mutual TLS. Ask for " +
                $"{Target.Host} to be exempted from TLS inspection.");
        }

        return Result(false, "ServerCertificateUntrusted", problem + " Check -Endpoint, or give " +
            "the CA that issued the server certificate with -ServerCertificateAuthority; if neither applies, " +
            "something between you and Stitch is intercepting TLS.");
    }

    private StitchMtlsTestResult TimedOut()
    {
        double seconds = _options.Timeout.TotalSeconds;
        FailStage(_current, $"No progress within {seconds:0} s.");
        string target = $"{ConnectHost}:{ConnectPort}";
        return _current switch
        {
            ConnectionStage.Resolve => Result(false, "DnsTimeout", $"Resolving {ConnectHost} took longer than " +
                $"{seconds:0} s. Check the DNS servers this machine uses."),
            ConnectionStage.Connect when _proxy is null => Result(false, "ConnectTimeout",
                ConnectionDiagnosis.ConnectTimeout(target, AddressToAllow, Target.Port, seconds)),
            ConnectionStage.Connect => Result(false, "ProxyTimeout", $"No TCP connection to the proxy {target} " +
                $"within {seconds:0} s. Check -Proxy or HTTPS_PROXY."),
            ConnectionStage.Proxy => Result(false, "ProxyTimeout", $"The proxy {_proxy} did not answer CONNECT " +
                $"within {seconds:0} s."),
            ConnectionStage.Tls => Result(false, "TlsTimeout", $"The TCP connection to {target} was made, but the " +
                $"TLS handshake did not complete within {seconds:0} s: the server does not speak TLS, or a proxy or " +
                "firewall holds the traffic."),
            _ => Result(false, "ResponseTimeout", $"The {_current} stage got no response from {Target.Authority} " +
                $"within {seconds:0} s after the handshake. Retry with a longer -TimeoutSec; if it persists, report " +
                "it to Stitch with the time of the attempt."),
        };
    }

    private StitchMtlsTestResult ConnectFailed(Exception exception)
    {
        SocketException? socket = ExceptionChain.Find<SocketException>(exception);
        string target = $"{ConnectHost}:{ConnectPort}";
        string via = _proxy is null ? string.Empty : " (the proxy)";
        string check = _proxy is null ? "-Endpoint and the port" : "-Proxy (or HTTPS_PROXY)";
        (string id, string text) = socket?.SocketErrorCode switch
        {
            SocketError.TimedOut when _proxy is not null => ("ProxyTimeout", $"No TCP connection to the proxy " +
                $"{target} within the operating system's time limit. Check -Proxy or HTTPS_PROXY."),
            SocketError.ConnectionRefused => ("ConnectionRefused", $"The connection to {target}{via} was refused: " +
                $"nothing listens there, or a firewall rejects it actively. Check {check}."),
            SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => ("DnsFailure",
                $"The host name '{ConnectHost}' could not be resolved. Check DNS on this machine."),
            SocketError.TimedOut => ("ConnectTimeout", ConnectionDiagnosis.ConnectTimeout(target, AddressToAllow,
                Target.Port, _options.Timeout.TotalSeconds)),
            _ => ("ConnectFailed",
                $"Could not connect to {target}{via}: {ExceptionChain.Innermost(exception).Message}"),
        };
        FailStage(_current, ExceptionChain.Innermost(exception).Message);
        return Result(false, id, text);
    }

    private void Begin(ConnectionStage stage, string narration)
    {
        _current = stage;
        _stageWatch.Restart();
        _log.Verbose($"[{stage}] {narration}");
    }

    private void Complete(string detail)
    {
        _stages.Add(new ConnectionStageResult
        {
            Stage = _current, Success = true, Duration = _stageWatch.Elapsed, Detail = detail,
        });
        _log.Verbose($"[{_current}] {detail}");
    }

    private void Fail(string detail) => FailStage(_current, detail);

    /// <summary>Records a failure; a stage that looked complete (TLS 1.3) is marked failed in place.</summary>
    private void FailStage(ConnectionStage stage, string detail)
    {
        ConnectionStageResult? earlier = _stages.FirstOrDefault(result => result.Stage == stage);
        if (earlier is not null)
        {
            earlier.Success = false;
            earlier.Detail = detail;
            _stages.RemoveAll(result => result.Stage > stage);
        }
        else
        {
            _stages.Add(new ConnectionStageResult
            {
                Stage = stage, Success = false, Duration = _stageWatch.Elapsed, Detail = detail,
            });
        }

        _current = stage;
        _log.Verbose($"[{stage}] Failed: {detail}");
    }

    private StitchMtlsTestResult Result(bool success, string id, string diagnosis, int? status = null,
        TimeSpan? tokenLifetime = null)
    {
        return new StitchMtlsTestResult
        {
            Endpoint = _options.Endpoint.MtlsUri.ToString(),
            Success = success,
            Stage = _current,
            FailedStage = success ? null : _current,
            DiagnosisId = id,
            Diagnosis = diagnosis,
            TlsProtocol = _tlsProtocol,
            ClientCertificateSubject = _options.Certificate.Leaf.Subject,
            ClientCertificateThumbprint = _options.Certificate.Leaf.Thumbprint,
            RemoteAddress = _remoteAddress,
            Proxy = _proxy?.ToString(),
            HttpStatus = status,
            TokenLifetime = tokenLifetime,
            Stages = _stages.ToList(),
        };
    }

    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    private string? Redact(string? text) => ConnectionDiagnosis.Redact(text,
        _options.Credential?.ClientSecret, _options.ProxyCredential?.Password);

    private static string TokenType(JsonElement json) =>
        json.TryGetProperty("token_type", out JsonElement type) ? type.GetString() ?? "bearer" : "bearer";
}
