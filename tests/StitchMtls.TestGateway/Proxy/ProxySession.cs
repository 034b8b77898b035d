using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls.TestGateway.Proxy;

/// <summary>
/// One client connection to the proxy: reads CONNECT requests, answers them as the mode says and, once one is
/// granted, relays bytes both ways between the client and a port on 127.0.0.1 until either side closes.
/// </summary>
/// <remarks>
/// The proxy never resolves a name and never connects anywhere but 127.0.0.1: "localhost" is taken to mean
/// 127.0.0.1, and every other target is refused with 403. After a 407 the connection stays open for the client's
/// next attempt, as RFC 9110 allows; every other refusal closes it.
/// </remarks>
internal sealed class ProxySession
{
    private const int MaxHeadLength = 16 * 1024;

    private static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _client;
    private readonly ProxyOptions _options;
    private readonly TextWriter _output;
    private readonly byte[] _buffer = new byte[MaxHeadLength];
    private int _buffered;

    public ProxySession(Socket client, ProxyOptions options, TextWriter output)
    {
        _client = client;
        _options = options;
        _output = output;
    }

    /// <summary>Serves the connection until it closes or <paramref name="stopping"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using Socket client = _client;
        try
        {
            while (true)
            {
                int headLength = await ReadHeadAsync(stopping);
                if (headLength < 0)
                {
                    return;
                }

                ProxyRequest? request = ProxyRequest.Parse(_buffer.AsSpan(0, headLength));
                Consume(headLength + 4);
                if (request is null)
                {
                    await ReplyAsync(400, "Bad Request", "The request line is not HTTP/1.x.", stopping);
                    return;
                }

                if (!await AnswerAsync(request, stopping))
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException
            or ObjectDisposedException)
        {
            // The client went away, or the proxy is stopping: the connection just closes.
        }
    }

    /// <summary>Answers one request; true when the connection should wait for another.</summary>
    private async Task<bool> AnswerAsync(ProxyRequest request, CancellationToken stopping)
    {
        if (request.Method != "CONNECT")
        {
            Log(request, 405);
            await ReplyAsync(405, "Method Not Allowed", "This proxy serves CONNECT only.", stopping);
            return false;
        }

        if (_options.Mode == ProxyMode.Refuse)
        {
            Log(request, 403);
            await ReplyAsync(403, "Forbidden", "This proxy refuses every CONNECT.", stopping);
            return false;
        }

        if (_options.Mode == ProxyMode.Authenticate && !IsAuthorized(request.ProxyAuthorization))
        {
            Log(request, 407);
            await ReplyAsync(407, "Proxy Authentication Required", string.Empty, stopping, keepAlive: true);
            return true;
        }

        if (!request.TryGetLoopbackPort(out int port))
        {
            Log(request, 403);
            await ReplyAsync(403, "Forbidden", "This proxy tunnels only to 127.0.0.1 and localhost.", stopping);
            return false;
        }

        using Socket? upstream = await ConnectLoopbackAsync(port, stopping);
        if (upstream is null)
        {
            Log(request, 502);
            await ReplyAsync(502, "Bad Gateway", $"Nothing accepts connections on 127.0.0.1:{port}.", stopping);
            return false;
        }

        Log(request, 200);
        await _client.SendAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), stopping);
        await TunnelAsync(upstream, stopping);
        return false;
    }

    private bool IsAuthorized(string? authorization)
    {
        const string scheme = "Basic ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        byte[] presented;
        try
        {
            presented = Convert.FromBase64String(authorization.Substring(scheme.Length).Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        byte[] expected = Encoding.UTF8.GetBytes($"{_options.User}:{_options.Password}");
        return CryptographicOperations.FixedTimeEquals(presented, expected);
    }

    private static async Task<Socket?> ConnectLoopbackAsync(int port, CancellationToken stopping)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var connectTime = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        connectTime.CancelAfter(s_connectTimeout);
        try
        {
            await upstream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), connectTime.Token);
            return upstream;
        }
        catch (Exception e) when (e is SocketException
            || (e is OperationCanceledException && !stopping.IsCancellationRequested))
        {
            upstream.Dispose();
            return null;
        }
    }

    /// <summary>Relays both ways; a side that ends its sending is half-closed towards the other.</summary>
    private async Task TunnelAsync(Socket upstream, CancellationToken stopping)
    {
        if (_buffered > 0)
        {
            // Bytes the client sent straight after its CONNECT head, typically the TLS ClientHello.
            await upstream.SendAsync(_buffer.AsMemory(0, _buffered), stopping);
            _buffered = 0;
        }

        await Task.WhenAll(RelayAsync(_client, upstream, stopping), RelayAsync(upstream, _client, stopping));
    }

    private static async Task RelayAsync(Socket from, Socket to, CancellationToken stopping)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int received;
            while ((received = await from.ReceiveAsync(buffer, stopping)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, received), stopping);
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // One side failed: end both, so the other direction does not wait for ever.
            from.Close();
            to.Close();
        }
    }

    /// <summary>Reads a whole request head into the buffer; returns its length less CRLF CRLF, -1 at EOF.</summary>
    private async Task<int> ReadHeadAsync(CancellationToken stopping)
    {
        while (true)
        {
            int end = _buffer.AsSpan(0, _buffered).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                return end;
            }

            if (_buffered == _buffer.Length)
            {
                await ReplyAsync(431, "Request Header Fields Too Large", string.Empty, stopping);
                return -1;
            }

            int received = await _client.ReceiveAsync(_buffer.AsMemory(_buffered), stopping);
            if (received == 0)
            {
                return -1;
            }

            _buffered += received;
        }
    }

    private void Consume(int count)
    {
        _buffer.AsSpan(count, _buffered - count).CopyTo(_buffer);
        _buffered -= count;
    }

    private async Task ReplyAsync(
        int status,
        string reason,
        string body,
        CancellationToken stopping,
        bool keepAlive = false)
    {
        var reply = new StringBuilder();
        reply.Append($"HTTP/1.1 {status} {reason}\r\n");
        if (status == 407)
        {
            reply.Append("Proxy-Authenticate: Basic realm=\"test\"\r\n");
        }

        if (status == 405)
        {
            reply.Append("Allow: CONNECT\r\n");
        }

        if (body.Length > 0)
        {
            reply.Append("Content-Type: text/plain\r\n");
        }

        reply.Append($"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n");
        reply.Append(keepAlive ? string.Empty : "Connection: close\r\n");
        reply.Append("\r\n").Append(body);
        await _client.SendAsync(Encoding.UTF8.GetBytes(reply.ToString()), stopping);
    }

    private void Log(ProxyRequest request, int status)
    {
        _output.WriteLine($"PROXY {ForLog(request.Method)} {ForLog(request.Target)} status={status}");
    }

    /// <summary>A token from the request line made safe for a one-line log: control characters become '_'.</summary>
    private static string ForLog(string token)
    {
        var text = new StringBuilder(token.Length);
        foreach (char character in token)
        {
            text.Append(char.IsControl(character) ? '_' : character);
        }

        return text.ToString();
    }
}
