namespace StitchMtls.TestGateway.Pki;

/// <summary>Which certificate the gateway presents to its clients.</summary>
internal enum ServerCertificateKind
{
    /// <summary>server.pem: issued by the intermediate for localhost and 127.0.0.1.</summary>
    Default,

    /// <summary>server-other.pem: issued by the intermediate, but for other.example.com only.</summary>
    OtherHost,

    /// <summary>server-self-signed.pem: names localhost and 127.0.0.1, but no CA vouches for it.</summary>
    SelfSigned,
}
