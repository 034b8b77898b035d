using System.IO;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// Writes one line per request, <c>REQUEST &lt;method&gt; &lt;path&gt; cn=&lt;client CN&gt; status=&lt;code&gt;</c>,
/// as the response starts, so the line is out before the client has its answer and a test that counts requests
/// right after a call sees it. The query string and the body are never logged: they may carry secrets.
/// </summary>
internal sealed class RequestLog
{
    private readonly TextWriter _output;

    public RequestLog(TextWriter output)
    {
        _output = output;
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var written = false;
        context.Response.OnStarting(() =>
        {
            if (!written)
            {
                written = true;
                Write(context, context.Response.StatusCode);
            }

            return Task.CompletedTask;
        });
        try
        {
            await next(context);
        }
        catch when (!written)
        {
            written = true;
            Write(context, StatusCodes.Status500InternalServerError);
            throw;
        }

        if (!written)
        {
            // A response with no body and no flush starts only after this middleware returns.
            written = true;
            Write(context, context.Response.StatusCode);
        }
    }

    private void Write(HttpContext context, int statusCode)
    {
        string path = (context.Request.PathBase + context.Request.Path).ToUriComponent();
        string commonName = ClientIdentity.ForLog(ClientIdentity.CommonNameOf(context.Connection.ClientCertificate));
        _output.WriteLine($"REQUEST {context.Request.Method} {path} cn={commonName} status={statusCode}");
    }
}
