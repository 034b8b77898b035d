using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// <c>serve --stall-after-handshake</c>: the client's certificate was accepted in the handshake and its request
/// arrives, but no response ever does. Writes <c>STALLED &lt;method&gt; &lt;path&gt; cn=&lt;client CN&gt;</c> and
/// holds the connection open until the client gives up or the gateway stops; then it drops the connection without
/// a response, so no REQUEST line is ever written for it.
/// </summary>
internal sealed class StalledResponse
{
    private readonly TextWriter _output;
    private readonly CancellationToken _stopping;

    /// <param name="output">Where the STALLED line goes.</param>
    /// <param name="stopping">Cancelled when the gateway begins to stop.</param>
    public StalledResponse(TextWriter output, CancellationToken stopping)
    {
        _output = output;
        _stopping = stopping;
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        string path = (context.Request.PathBase + context.Request.Path).ToUriComponent();
        string commonName = ClientIdentity.ForLog(ClientIdentity.CommonNameOf(context.Connection.ClientCertificate));
        _output.WriteLine($"STALLED {context.Request.Method} {path} cn={commonName}");

        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping);
        try
        {
            await Task.Delay(Timeout.Infinite, giveUp.Token);
        }
        catch (OperationCanceledException)
        {
            // The client left or the gateway is stopping: either way the connection ends without a response.
        }

        context.Abort();
    }
}
