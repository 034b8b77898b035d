using System.Collections.Generic;
using System.Text;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// The gateway's role-based access control: a client whose certificate is trusted but whose CN is not on
/// the allow list gets 403 with the plain-text body an Envoy RBAC filter sends, whatever it asked for.
/// </summary>
internal sealed class AccessControl
{
    public const string DeniedBody = "RBAC: access denied";

    private static readonly byte[] s_deniedBody = Encoding.ASCII.GetBytes(DeniedBody);

    private readonly IReadOnlySet<string>? _allowedCommonNames;

    /// <param name="allowedCommonNames">The CNs let through, compared exactly; null lets everyone through.</param>
    public AccessControl(IReadOnlySet<string>? allowedCommonNames)
    {
        _allowedCommonNames = allowedCommonNames;
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (IsAllowed(ClientIdentity.CommonNameOf(context.Connection.ClientCertificate)))
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/plain";
        context.Response.ContentLength = s_deniedBody.Length;
        await context.Response.Body.WriteAsync(s_deniedBody, context.RequestAborted);
    }

    private bool IsAllowed(string? commonName) =>
        _allowedCommonNames is null || (commonName is not null && _allowedCommonNames.Contains(commonName));
}
