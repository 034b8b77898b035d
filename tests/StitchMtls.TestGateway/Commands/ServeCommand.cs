using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using StitchMtls.TestGateway.Pki;
using StitchMtls.TestGateway.Serve;

namespace StitchMtls.TestGateway.Commands;

/// <summary>
/// <c>serve --pki &lt;dir&gt; [--tls 1.2|1.3|any] [--allowed-cn cn1,cn2] [--client-id id] [--client-secret s]
/// [--port 0] [--tls-engine auto|openssl|sslstream] [--server-cert default|other-host|self-signed]
/// [--stall-after-handshake] [--client-assertion-cert &lt;pem&gt;] [--token-lifetime 3600]
/// [--api-fault none|429-once|503-once|unauthenticated]</c>: runs the gateway until standard input closes or a
/// termination signal arrives.
/// </summary>
internal static class ServeCommand
{
    public const string Name = "serve";

    public const string DefaultClientId = "test-client";

    public const string DefaultClientSecret = "test-secret";

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments)
    {
        CommandLineOptions options = CommandLineOptions.Parse(
            Name,
            arguments,
            ["pki", "tls", "allowed-cn", "client-id", "client-secret", "port", "tls-engine", "server-cert",
                "client-assertion-cert", "token-lifetime", "api-fault"],
            ["stall-after-handshake"]);
        var pki = new PkiDirectory(options.GetRequiredString("pki"));
        ServerCertificateKind serverCertificate = ReadServerCertificate(options.GetString("server-cert") ?? "default");
        var gatewayOptions = new GatewayOptions(
            pki,
            ReadProtocols(options.GetString("tls") ?? "any"),
            ReadAllowedCommonNames(options.GetString("allowed-cn")),
            options.GetString("client-id") ?? DefaultClientId,
            options.GetString("client-secret") ?? DefaultClientSecret,
            options.GetInt32("port", min: 0, max: 65535) ?? 0,
            ReadEngine(options.GetString("tls-engine") ?? "auto"),
            PrivateCertificateAuthority.EnsureServerCertificate(pki, serverCertificate),
            options.HasFlag("stall-after-handshake"),
            ReadCertificate(options.GetString("client-assertion-cert")),
            options.GetInt32("token-lifetime", min: 1, max: 86400) ?? TokenEndpoint.DefaultExpiresInSeconds,
            ReadApiFault(options.GetString("api-fault") ?? "none"));

        using var shutdown = new ShutdownSignal();
        await GatewayHost.RunAsync(gatewayOptions, Console.Out, Console.Error, shutdown.Requested);
        return ExitCode.Success;
    }

    private static SslProtocols ReadProtocols(string version) => version switch
    {
        "1.2" => SslProtocols.Tls12,
        "1.3" => SslProtocols.Tls13,
        "any" => SslProtocols.Tls12 | SslProtocols.Tls13,
        _ => throw new GatewayInputException($"{Name}: option '--tls' must be 1.2, 1.3 or any, not '{version}'."),
    };

    private static TlsEngine ReadEngine(string engine) => engine switch
    {
        "auto" => TlsEngine.Auto,
        "openssl" => TlsEngine.OpenSsl,
        "sslstream" => TlsEngine.SslStream,
        _ => throw new GatewayInputException(
            $"{Name}: option '--tls-engine' must be auto, openssl or sslstream, not '{engine}'."),
    };

    private static ServerCertificateKind ReadServerCertificate(string kind) => kind switch
    {
        "default" => ServerCertificateKind.Default,
        "other-host" => ServerCertificateKind.OtherHost,
        "self-signed" => ServerCertificateKind.SelfSigned,
        _ => throw new GatewayInputException(
            $"{Name}: option '--server-cert' must be default, other-host or self-signed, not '{kind}'."),
    };

    private static ApiFault ReadApiFault(string fault) => fault switch
    {
        "none" => ApiFault.None,
        "429-once" => ApiFault.TooManyRequestsOnce,
        "503-once" => ApiFault.ServiceUnavailableOnce,
        "unauthenticated" => ApiFault.Unauthenticated,
        _ => throw new GatewayInputException(
            $"{Name}: option '--api-fault' must be none, 429-once, 503-once or unauthenticated, not '{fault}'."),
    };

    private static X509Certificate2? ReadCertificate(string? path)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException
            or ArgumentException)
        {
            throw new GatewayInputException(
                $"{Name}: option '--client-assertion-cert' must name a PEM certificate file: {e.Message}");
        }
    }

    private static IReadOnlySet<string>? ReadAllowedCommonNames(string? list)
    {
        if (list is null)
        {
            return null;
        }

        string[] names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
        {
            throw new GatewayInputException($"{Name}: option '--allowed-cn' names no common name.");
        }

        return names.ToHashSet(StringComparer.Ordinal);
    }
}
