using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls.TestGateway.Proxy;

/// <summary>
/// A small HTTP CONNECT proxy on 127.0.0.1 (RFC 9110, section 9.3.6) that forwards, refuses or demands Basic
/// credentials, so tests can reach the gateway through a proxy without leaving the machine.
/// </summary>
internal static class ConnectProxy
{
    private static readonly TimeSpan s_shutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Serves until <paramref name="shutdown"/> completes. Prints <c>LISTENING http://127.0.0.1:&lt;port&gt;/</c> on
    /// <paramref name="output"/> once connections are accepted, then <c>CONNECTION n=&lt;k&gt;</c> per accepted
    /// connection and <c>PROXY &lt;method&gt; &lt;target&gt; status=&lt;code&gt;</c> per request.
    /// </summary>
    public static async Task RunAsync(ProxyOptions options, TextWriter output, Task shutdown)
    {
        var connections = new ConnectionLog(output);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, options.Port));
            listener.Listen();
        }
        catch (SocketException e)
        {
            throw new IOException($"Cannot listen on 127.0.0.1:{options.Port}: {e.Message}", e);
        }

        output.WriteLine($"LISTENING http://127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}/");
        output.Flush();

        using var stopping = new CancellationTokenSource();
        var sessions = new List<Task>();
        Task accepting = AcceptAsync(listener, options, connections, output, sessions, stopping.Token);

        await shutdown;
        stopping.Cancel();
        listener.Close();
        await accepting;
        Task[] running;
        lock (sessions)
        {
            running = sessions.ToArray();
        }

        await Task.WhenAny(Task.WhenAll(running), Task.Delay(s_shutdownTimeout));
    }

    private static async Task AcceptAsync(
        Socket listener,
        ProxyOptions options,
        ConnectionLog connections,
        TextWriter output,
        List<Task> sessions,
        CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stopping);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            connections.Accepted();
            var session = new ProxySession(client, options, output);
            lock (sessions)
            {
                sessions.RemoveAll(task => task.IsCompleted);
                sessions.Add(Task.Run(() => session.RunAsync(stopping)));
            }
        }
    }
}
