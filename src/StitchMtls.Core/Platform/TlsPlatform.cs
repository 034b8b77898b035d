using System;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls.Platform;

/// <summary>
/// What differs between TLS stacks: how a certificate must carry its key to be usable by the stack, and how a
/// TLS alert from the server surfaces in exceptions.
/// </summary>
internal static class TlsPlatform
{
    // OpenSSL 3 packs errors as (library << 23) | reason; ERR_LIB_SSL is 20, and an alert received from the
    // peer has reason SSL_AD_REASON_OFFSET (1000) + the alert number (ssl/ssl_local.h, include/openssl/sslerr.h).
    private const int OpenSslLibraryShift = 23;
    private const int OpenSslLibSsl = 20;
    private const int OpenSslReasonMask = 0x7FFFFF;
    private const int OpenSslAlertOffset = 1000;

    /// <summary>A certificate with its private key attached in the form the platform's TLS stack can use.</summary>
    public static X509Certificate2 AttachKey(X509Certificate2 leaf, AsymmetricAlgorithm key)
    {
        X509Certificate2 withKey = key switch
        {
            RSA rsa => leaf.CopyWithPrivateKey(rsa),
            ECDsa ec => leaf.CopyWithPrivateKey(ec),
            _ => throw new StitchMtlsException("KeyAlgorithmUnsupported", FailureCategory.InvalidData,
                $"The private key algorithm '{key.GetType().Name}' is not supported; use RSA or ECDSA.", null),
        };

        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return withKey;
        }

        // SChannel cannot use the ephemeral key a PEM import creates (SEC_E_NO_CREDENTIALS, 0x8009030E): a
        // round trip through PKCS#12 gives it a key container it can open.
        using (withKey)
        {
            byte[] pfx = withKey.Export(X509ContentType.Pkcs12);
            return new X509Certificate2(pfx, (string?)null, X509KeyStorageFlags.UserKeySet);
        }
    }

    /// <summary>
    /// The TLS alert number (RFC 8446 section 6) the peer sent, when the exception chain carries one.
    /// </summary>
    public static int? ReceivedAlert(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            int hresult = current.HResult;
            if (hresult >> OpenSslLibraryShift == OpenSslLibSsl)
            {
                int reason = hresult & OpenSslReasonMask;
                if (reason is >= OpenSslAlertOffset and < OpenSslAlertOffset + 256)
                {
                    return reason - OpenSslAlertOffset;
                }
            }
        }

        return null;
    }
}
