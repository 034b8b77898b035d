using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls;

/// <summary>How to reach Stitch: the client certificate and everything around the TLS connection.</summary>
public sealed class MtlsConnectionSettings
{
    /// <summary>The client certificate. <see cref="MtlsConnectionPool.ForSession"/> takes ownership of it.</summary>
    public required ClientCertificate Certificate { get; init; }

    /// <summary>CA certificates the server's certificate must chain to; the system trust store when null.</summary>
    public X509Certificate2Collection? ServerCertificateAuthority { get; init; }

    /// <summary>An HTTP proxy to tunnel through; when null, the proxy HttpClient would pick (HTTPS_PROXY...).</summary>
    public Uri? Proxy { get; init; }

    public NetworkCredential? ProxyCredential { get; init; }

    /// <summary>Connect directly even where HTTPS_PROXY or the system settings name a proxy.</summary>
    public bool NoProxy { get; init; }
}

/// <summary>
/// The connections of one client certificate, kept open between calls: one pool per certificate (and server CA
/// and proxy settings) for the life of the process, so a script that makes a hundred API calls pays for one TLS
/// handshake, not a hundred.
/// </summary>
/// <remarks>
/// The pool is process-wide, which in PowerShell means every runspace of the process shares it. Idle connections
/// close after <see cref="IdleTimeout"/>; each connection is replaced after <see cref="ConnectionLifetime"/>, so a
/// renewed certificate or a moved DNS record is picked up without restarting the session.
/// </remarks>
public sealed class MtlsConnectionPool : IDisposable
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(2);

    public static readonly TimeSpan ConnectionLifetime = TimeSpan.FromMinutes(15);

    private static readonly ConcurrentDictionary<string, Lazy<MtlsConnectionPool>> s_session =
        new(StringComparer.Ordinal);

    private static readonly HttpRequestOptionsKey<IOperationLog> s_logKey = new("StitchMtls.Log");

    private readonly MtlsConnectionSettings _settings;
    private readonly ConcurrentDictionary<string, MtlsConnector> _connectors = new(StringComparer.Ordinal);
    private readonly HttpClient _client;
    private int _handshakes;
    private volatile bool _forgotten;

    private MtlsConnectionPool(MtlsConnectionSettings settings, string sessionKey)
    {
        _settings = settings;
        SessionKey = sessionKey;
        CertificateThumbprint = settings.Certificate.Leaf.Thumbprint;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionIdleTimeout = IdleTimeout,
            PooledConnectionLifetime = ConnectionLifetime,
        };
        _client = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            MaxResponseContentBufferSize = 16 * 1024 * 1024,
        };
    }

    /// <summary>The certificate the pool presents.</summary>
    public ClientCertificate Certificate => _settings.Certificate;

    /// <summary>The certificate's thumbprint, kept as text so it can still be shown after the pool closed.</summary>
    public string CertificateThumbprint { get; }

    /// <summary>
    /// What tells this pool apart from the session's others: the certificate, the server CAs and the proxy
    /// settings (the proxy password only as a keyed hash).
    /// </summary>
    internal string SessionKey { get; }

    /// <summary>How many TLS handshakes this pool has completed: one per connection it opened.</summary>
    public int HandshakeCount => Volatile.Read(ref _handshakes);

    /// <summary>
    /// The session's pool for these settings, created on first use. The pool owns
    /// <see cref="MtlsConnectionSettings.Certificate"/> from now on: when a pool for the same certificate already
    /// exists, the certificate passed in is disposed and the pool's own is used.
    /// </summary>
    public static MtlsConnectionPool ForSession(MtlsConnectionSettings settings)
    {
        string key = KeyOf(settings);
        MtlsConnectionPool pool = s_session.GetOrAdd(key,
            _ => new Lazy<MtlsConnectionPool>(() => new MtlsConnectionPool(settings, key))).Value;
        if (!ReferenceEquals(pool._settings, settings))
        {
            settings.Certificate.Dispose();
        }

        return pool;
    }

    /// <summary>Closes every pool of the session; the next call opens new connections.</summary>
    public static void ClearSession()
    {
        foreach (string key in s_session.Keys.ToList())
        {
            if (s_session.TryRemove(key, out Lazy<MtlsConnectionPool>? pool) && pool.IsValueCreated)
            {
                pool.Value.Dispose();
            }
        }
    }

    /// <summary>
    /// Closes the session's pools of the certificate with <paramref name="thumbprint"/> for good, after its key
    /// was deleted: their connections are dropped, and anything still holding one of them (a token object fetched
    /// earlier) is refused with <c>ClientCertificateRemoved</c>. The next call that finds the certificate again
    /// opens a new pool.
    /// </summary>
    /// <returns>How many pools were closed.</returns>
    public static int Forget(string thumbprint)
    {
        int closed = 0;
        string prefix = thumbprint.Trim().ToUpperInvariant() + "\n";
        foreach (string key in s_session.Keys.Where(key => key.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            if (s_session.TryRemove(key, out Lazy<MtlsConnectionPool>? pool) && pool.IsValueCreated)
            {
                pool.Value._forgotten = true;
                pool.Value.Dispose();
                closed++;
            }
        }

        return closed;
    }

    /// <summary>True once <see cref="Forget"/> closed this pool because its certificate was removed.</summary>
    public bool IsForgotten => _forgotten;

    /// <summary>
    /// Sends a request to <paramref name="target"/> (an https URI) over a pooled connection. The handler speaks
    /// plain HTTP over the stream the connect callback returns, which is already TLS; the Host header keeps the
    /// https authority the server expects.
    /// </summary>
    internal Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri target, HttpContent? content,
        AuthenticationHeaderValue? authorization, IOperationLog log, CancellationToken token)
    {
        ThrowIfForgotten();
        var plainUri = new Uri($"http://{target.Host}:{target.Port}{target.PathAndQuery}");
        var request = new HttpRequestMessage(method, plainUri) { Content = content };
        request.Headers.Host = target.Authority;
        request.Headers.UserAgent.ParseAdd("StitchMtls/" + typeof(MtlsConnectionPool).Assembly.GetName().Version);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Authorization = authorization;
        request.Options.Set(s_logKey, log);
        return SendAndDisposeRequestAsync(request, token);
    }

    /// <summary>The proxy a connection to <paramref name="target"/> goes through, or null.</summary>
    internal Uri? ProxyFor(Uri target) => ProxyTunnel.Choose(target, _settings.Proxy, _settings.NoProxy);

    /// <exception cref="StitchMtlsException"><c>ClientCertificateRemoved</c>.</exception>
    internal void ThrowIfForgotten()
    {
        if (_forgotten)
        {
            throw new StitchMtlsException("ClientCertificateRemoved", FailureCategory.InvalidOperation,
                $"The client certificate {CertificateThumbprint} and its key were removed in this session, so " +
                "its connections and tokens were dropped and cannot be used again. " +
                "Get a new token with the current certificate (Get-StitchAccessToken -CommonName or -Thumbprint).",
                CertificateThumbprint);
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _settings.Certificate.Dispose();
    }

    private async Task<HttpResponseMessage> SendAndDisposeRequestAsync(HttpRequestMessage request,
        CancellationToken token)
    {
        using (request)
        {
            return await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, token)
                .ConfigureAwait(false);
        }
    }

    private async ValueTask<System.IO.Stream> ConnectAsync(SocketsHttpConnectionContext context,
        CancellationToken token)
    {
        string host = context.DnsEndPoint.Host;
        int port = context.DnsEndPoint.Port;
        Uri? proxy = ProxyFor(new Uri($"https://{host}:{port}/"));
        MtlsConnector connector = _connectors.GetOrAdd(proxy?.ToString() ?? string.Empty,
            _ => new MtlsConnector(_settings.Certificate, _settings.ServerCertificateAuthority, proxy,
                _settings.ProxyCredential));
        IOperationLog log = context.InitialRequestMessage.Options.TryGetValue(s_logKey, out IOperationLog? found)
            ? found
            : NullOperationLog.Instance;

        SslStream tls = await connector.ConnectAsync(host, port, new VerboseNarration(log), token)
            .ConfigureAwait(false);
        int number = Interlocked.Increment(ref _handshakes);
        log.Verbose($"Opened pooled connection {number} for '{_settings.Certificate.Leaf.Subject}'; later calls " +
            "reuse it.");
        return tls;
    }

    private static string KeyOf(MtlsConnectionSettings settings)
    {
        string authorities = settings.ServerCertificateAuthority is null
            ? "-"
            : string.Join(",", settings.ServerCertificateAuthority.Select(certificate => certificate.Thumbprint)
                .Order(StringComparer.Ordinal));
        return string.Join("\n", settings.Certificate.Leaf.Thumbprint, authorities,
            settings.Proxy?.ToString() ?? "-", settings.NoProxy ? "direct" : "-",
            settings.ProxyCredential?.UserName ?? "-", SecretFingerprint.Of(settings.ProxyCredential?.Password));
    }

    /// <summary>Narrates the stages of a new connection on the verbose stream of the call that needed it.</summary>
    private sealed class VerboseNarration : IConnectionNarration
    {
        private readonly IOperationLog _log;
        private ConnectionStage _stage;

        public VerboseNarration(IOperationLog log) => _log = log;

        public void Begin(ConnectionStage stage, string narration)
        {
            _stage = stage;
            _log.Verbose($"[{stage}] {narration}");
        }

        public void Complete(string detail) => _log.Verbose($"[{_stage}] {detail}");

        public void Warning(string message) => _log.Warning(message);
    }
}

/// <summary>
/// A keyed hash of a secret, for telling secrets apart in a cache key without keeping them: the key is random
/// per process, so the fingerprint cannot be checked against guesses anywhere else.
/// </summary>
internal static class SecretFingerprint
{
    private static readonly byte[] s_key = RandomNumberGenerator.GetBytes(32);

    public static string Of(string? secret) => secret is null
        ? "-"
        : Convert.ToHexString(HMACSHA256.HashData(s_key, Encoding.UTF8.GetBytes(secret)));
}
