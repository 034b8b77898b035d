namespace StitchMtls.TestGateway.Proxy;

/// <summary>What <c>proxy</c> was asked for.</summary>
/// <param name="Port">The loopback port; 0 for any free one.</param>
/// <param name="Mode">How CONNECT requests are answered.</param>
/// <param name="User">The user name Basic authentication expects (<see cref="ProxyMode.Authenticate"/> only).</param>
/// <param name="Password">The password that goes with <paramref name="User"/>.</param>
internal sealed record ProxyOptions(int Port, ProxyMode Mode, string? User, string? Password);
