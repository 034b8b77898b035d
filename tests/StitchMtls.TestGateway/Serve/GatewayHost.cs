using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using StitchMtls.TestGateway.Serve.OpenSsl;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// Runs the gateway: Kestrel on 127.0.0.1 behind TLS that demands a client certificate from the private CA,
/// then request logging, access control and the endpoints.
/// </summary>
internal static class GatewayHost
{
    public const string HomeText = "Stitch mTLS gateway (local)";

    private static readonly TimeSpan s_shutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Serves until <paramref name="shutdown"/> completes. Prints <c>LISTENING https://127.0.0.1:&lt;port&gt;/</c>
    /// on <paramref name="output"/> once connections are accepted, then a CONNECTION line per accepted connection,
    /// a HANDSHAKE line per completed handshake and a REQUEST line per request (STALLED instead, with
    /// <see cref="GatewayOptions.StallAfterHandshake"/>); rejected handshakes go to <paramref name="diagnostics"/>.
    /// </summary>
    public static async Task RunAsync(GatewayOptions options, TextWriter output, TextWriter diagnostics, Task shutdown)
    {
        var connections = new ConnectionLog(output);
        using ITlsTermination tls = CreateTermination(options, connections, diagnostics);

        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, options.Port, listen =>
            {
                ConnectionNumber.Assign(listen, connections);
                tls.Apply(listen);
            });
        });

        await using WebApplication app = builder.Build();
        if (options.StallAfterHandshake)
        {
            app.Use(new StalledResponse(output, app.Lifetime.ApplicationStopping).InvokeAsync);
        }

        app.Use(new RequestLog(output).InvokeAsync);
        app.Use(new AccessControl(options.AllowedCommonNames).InvokeAsync);
        app.MapGet("/", () => Results.Text(HomeText, "text/plain"));
        var tokens = new IssuedTokens(output, options.TokenLifetimeSeconds);
        ClientAssertionVerifier? assertions = options.ClientAssertionCertificate is null
            ? null
            : new ClientAssertionVerifier(options.ClientId, options.ClientAssertionCertificate);
        var tokenEndpoint = new TokenEndpoint(options.ClientId, options.ClientSecret, tokens, assertions);
        app.MapPost(TokenEndpoint.Path, tokenEndpoint.HandleAsync);
        app.MapPost("/test/token-error", tokenEndpoint.FailNextAsync);
        new ApiEndpoints(tokens, options.ApiFault).Map(app);

        await app.StartAsync();
        output.WriteLine($"LISTENING https://127.0.0.1:{ListeningPort(app)}/");
        output.Flush();

        await shutdown;
        using var stopTime = new CancellationTokenSource(s_shutdownTimeout);
        await app.StopAsync(stopTime.Token);
    }

    private static ITlsTermination CreateTermination(
        GatewayOptions options,
        ConnectionLog connections,
        TextWriter diagnostics)
    {
        bool useOpenSsl = options.Engine switch
        {
            TlsEngine.OpenSsl => true,
            TlsEngine.SslStream => false,
            _ => LibSsl.IsAvailable(),
        };

        return useOpenSsl
            ? new OpenSslTermination(OpenSslServerContext.Create(options), connections, diagnostics)
            : new SslStreamTermination(options, connections, diagnostics);
    }

    private static int ListeningPort(WebApplication app)
    {
        IServerAddressesFeature addresses = app.Services.GetRequiredService<IServer>().Features
            .GetRequiredFeature<IServerAddressesFeature>();
        return new Uri(addresses.Addresses.Single()).Port;
    }
}
