using System.IO;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// Writes one line per request, <c>REQUEST &lt;method&gt; &lt;path&gt; cn=&lt;client CN&gt; status=&lt;code&gt;</c>,
/// once the response is known. The query string and the body are never logged: they may carry secrets.
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
        try
        {
            await next(context);
            Write(context, context.Response.StatusCode);
        }
        catch
        {
            Write(context, StatusCodes.Status500InternalServerError);
            throw;
        }
    }

    private void Write(HttpContext context, int statusCode)
    {
        string path = (context.Request.PathBase + context.Request.Path).ToUriComponent();
        string commonName = ClientIdentity.ForLog(ClientIdentity.CommonNameOf(context.Connection.ClientCertificate));
        _output.WriteLine($"REQUEST {context.Request.Method} {path} cn={commonName} status={statusCode}");
    }
}
