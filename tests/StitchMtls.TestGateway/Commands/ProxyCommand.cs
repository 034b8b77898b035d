using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using StitchMtls.TestGateway.Proxy;
using StitchMtls.TestGateway.Serve;

namespace StitchMtls.TestGateway.Commands;

/// <summary>
/// <c>proxy --mode forward|refuse|auth [--user u --password p] [--port 0]</c>: runs an HTTP CONNECT proxy on
/// 127.0.0.1 until standard input closes or a termination signal arrives. It only ever tunnels to 127.0.0.1.
/// </summary>
internal static class ProxyCommand
{
    public const string Name = "proxy";

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments)
    {
        CommandLineOptions options = CommandLineOptions.Parse(Name, arguments, ["port", "mode", "user", "password"]);
        ProxyMode mode = ReadMode(options.GetRequiredString("mode"));
        string? user = options.GetString("user");
        string? password = options.GetString("password");
        if (mode == ProxyMode.Authenticate)
        {
            user = options.GetRequiredString("user");
            password = options.GetString("password") ?? throw new GatewayInputException(
                $"{Name}: option '--password' is required with '--mode auth'.");
            if (user.Contains(':', StringComparison.Ordinal))
            {
                throw new GatewayInputException($"{Name}: option '--user' cannot contain ':' (RFC 7617).");
            }
        }
        else if (user is not null || password is not null)
        {
            throw new GatewayInputException($"{Name}: options '--user' and '--password' go with '--mode auth' only.");
        }

        var proxyOptions = new ProxyOptions(options.GetInt32("port", min: 0, max: 65535) ?? 0, mode, user, password);
        using var shutdown = new ShutdownSignal();
        await ConnectProxy.RunAsync(proxyOptions, Console.Out, shutdown.Requested);
        return ExitCode.Success;
    }

    private static ProxyMode ReadMode(string mode) => mode switch
    {
        "forward" => ProxyMode.Forward,
        "refuse" => ProxyMode.Refuse,
        "auth" => ProxyMode.Authenticate,
        _ => throw new GatewayInputException(
            $"{Name}: option '--mode' must be forward, refuse or auth, not '{mode}'."),
    };
}
