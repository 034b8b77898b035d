namespace StitchMtls.TestGateway.Pki;

/// <summary>The files of one server certificate the gateway can present.</summary>
/// <param name="CertificatePath">The server's leaf certificate.</param>
/// <param name="KeyPath">Its private key.</param>
/// <param name="ChainPath">What the gateway sends: the leaf, then any intermediate.</param>
internal sealed record ServerCertificateFiles(string CertificatePath, string KeyPath, string ChainPath);
