using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls.Tests;

/// <summary>One request as the loopback server saw it.</summary>
internal sealed record LoopbackRequest(string Method, string Path, string? Authorization, string Body);

/// <summary>What the loopback server answers.</summary>
internal sealed record LoopbackResponse(int Status, string Body, string? RetryAfter = null);

/// <summary>
/// A TLS server on 127.0.0.1 that demands a client certificate and speaks just enough HTTP/1.1 (keep-alive,
/// Content-Length bodies) for the API client: the test decides each answer and counts connections.
/// </summary>
internal sealed class LoopbackApiServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<LoopbackRequest, LoopbackResponse> _answer;
    private readonly SslStreamCertificateContext _serverContext;
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    public LoopbackApiServer(TestPki pki, Func<LoopbackRequest, LoopbackResponse> answer)
    {
        _answer = answer;
        _serverContext = SslStreamCertificateContext.Create(IssueServerCertificate(pki),
            new X509Certificate2Collection(pki.Intermediate), offline: true);
        _listener.Start();
        _ = AcceptAsync();
    }

    public Uri Uri => new($"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    public int Connections => Volatile.Read(ref _connections);

    public ConcurrentQueue<LoopbackRequest> Requests { get; } = new();

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        await using (var tls = new SslStream(client.GetStream()))
        {
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = _serverContext,
                    ClientCertificateRequired = true,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
                }, _stop.Token);
                while (await ServeOneAsync(tls))
                {
                }
            }
            catch (Exception)
            {
                // The client went away or the server stopped: either ends this connection only.
            }
        }
    }

    private async Task<bool> ServeOneAsync(Stream stream)
    {
        string? head = await ReadHeadAsync(stream);
        if (head is null)
        {
            return false;
        }

        string[] lines = head.Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines[1..])
        {
            int colon = line.IndexOf(':');
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        int length = headers.TryGetValue("Content-Length", out string? text) ? int.Parse(text) : 0;
        byte[] body = new byte[length];
        await stream.ReadExactlyAsync(body, _stop.Token);
        var request = new LoopbackRequest(requestLine[0], requestLine[1],
            headers.GetValueOrDefault("Authorization"), Encoding.UTF8.GetString(body));
        Requests.Enqueue(request);

        LoopbackResponse response = _answer(request);
        byte[] content = Encoding.UTF8.GetBytes(response.Body);
        string retryAfter = response.RetryAfter is null ? string.Empty : $"Retry-After: {response.RetryAfter}\r\n";
        string answer = $"HTTP/1.1 {response.Status} X\r\nContent-Type: application/json\r\n" +
            $"Content-Length: {content.Length}\r\n{retryAfter}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), _stop.Token);
        await stream.WriteAsync(content, _stop.Token);
        await stream.FlushAsync(_stop.Token);
        return true;
    }

    private async Task<string?> ReadHeadAsync(Stream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0)
            {
                return null;
            }

            head.Append((char)one[0]);
        }

        return head.ToString(0, head.Length - 4);
    }

    private static X509Certificate2 IssueServerCertificate(TestPki pki)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(
            pki.Intermediate, true, false));
        using X509Certificate2 signed = request.Create(pki.Intermediate, DateTimeOffset.UtcNow.AddMinutes(-5),
            DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        // SslStream on Linux wants a key it can hand to OpenSSL: a PKCS#12 round trip gives it one.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
