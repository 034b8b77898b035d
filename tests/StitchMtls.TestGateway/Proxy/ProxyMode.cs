namespace StitchMtls.TestGateway.Proxy;

/// <summary>How the loopback CONNECT proxy answers.</summary>
internal enum ProxyMode
{
    /// <summary>Tunnels CONNECT to 127.0.0.1 or localhost; 403 for any other target.</summary>
    Forward,

    /// <summary>403 Forbidden for every CONNECT.</summary>
    Refuse,

    /// <summary>407 unless Basic credentials match, then as <see cref="Forward"/>.</summary>
    Authenticate,
}
