using System;
using System.Runtime.InteropServices;

namespace StitchMtls.TestGateway.Serve.OpenSsl;

/// <summary>
/// The part of the OpenSSL 3 API (libssl.so.3 and libcrypto.so.3) the gateway's TLS termination uses.
/// C <c>long</c> and <c>size_t</c> are <see cref="nint"/> and <see cref="nuint"/>: this runs on 64-bit Linux only.
/// </summary>
internal static partial class LibSsl
{
    public const string SslLibrary = "libssl.so.3";

    public const string CryptoLibrary = "libcrypto.so.3";

    public const int SslVerifyPeer = 0x01;
    public const int SslVerifyFailIfNoPeerCertificate = 0x02;

    public const int SslFileTypePem = 1;

    public const int SslErrorNone = 0;
    public const int SslErrorSsl = 1;
    public const int SslErrorWantRead = 2;
    public const int SslErrorWantWrite = 3;
    public const int SslErrorSyscall = 5;
    public const int SslErrorZeroReturn = 6;

    public const int SslCtrlSetSessionCacheMode = 44;
    public const int SslCtrlSetMinProtoVersion = 123;
    public const int SslCtrlSetMaxProtoVersion = 124;

    public const int SslSessionCacheOff = 0;

    public const int Tls12Version = 0x0303;
    public const int Tls13Version = 0x0304;

    public const ulong SslOptionNoTicket = 1UL << 14;
    public const ulong SslOptionNoRenegotiation = 1UL << 30;

    /// <summary>True when libssl.so.3 can be loaded on this machine.</summary>
    public static bool IsAvailable()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad(SslLibrary, out IntPtr handle))
        {
            return false;
        }

        NativeLibrary.Free(handle);
        return true;
    }

    [LibraryImport(SslLibrary)]
    public static partial IntPtr TLS_server_method();

    [LibraryImport(SslLibrary)]
    public static partial SafeSslContextHandle SSL_CTX_new(IntPtr method);

    [LibraryImport(SslLibrary)]
    public static partial void SSL_CTX_free(IntPtr context);

    [LibraryImport(SslLibrary, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SSL_CTX_use_certificate_chain_file(SafeSslContextHandle context, string path);

    [LibraryImport(SslLibrary, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SSL_CTX_use_PrivateKey_file(SafeSslContextHandle context, string path, int type);

    [LibraryImport(SslLibrary)]
    public static partial int SSL_CTX_check_private_key(SafeSslContextHandle context);

    [LibraryImport(SslLibrary, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SSL_CTX_load_verify_locations(
        SafeSslContextHandle context,
        string certificateFile,
        string? certificateDirectory);

    [LibraryImport(SslLibrary)]
    public static partial void SSL_CTX_set_verify(SafeSslContextHandle context, int mode, IntPtr callback);

    [LibraryImport(SslLibrary)]
    public static partial nint SSL_CTX_ctrl(SafeSslContextHandle context, int command, nint argument, IntPtr pointer);

    [LibraryImport(SslLibrary)]
    public static partial ulong SSL_CTX_set_options(SafeSslContextHandle context, ulong options);

    [LibraryImport(SslLibrary)]
    public static partial int SSL_CTX_set_session_id_context(
        SafeSslContextHandle context,
        ReadOnlySpan<byte> sessionIdContext,
        uint length);

    [LibraryImport(SslLibrary)]
    public static partial int SSL_CTX_set_num_tickets(SafeSslContextHandle context, nuint count);

    [LibraryImport(SslLibrary)]
    public static partial SafeSslHandle SSL_new(SafeSslContextHandle context);

    [LibraryImport(SslLibrary)]
    public static partial void SSL_free(IntPtr ssl);

    [LibraryImport(SslLibrary)]
    public static partial void SSL_set_bio(SafeSslHandle ssl, IntPtr readBio, IntPtr writeBio);

    [LibraryImport(SslLibrary)]
    public static partial void SSL_set_accept_state(SafeSslHandle ssl);

    [LibraryImport(SslLibrary)]
    public static partial int SSL_do_handshake(SafeSslHandle ssl);

    [LibraryImport(SslLibrary)]
    public static partial int SSL_get_error(SafeSslHandle ssl, int result);

    [LibraryImport(SslLibrary)]
    public static partial int SSL_read(SafeSslHandle ssl, Span<byte> buffer, int count);

    [LibraryImport(SslLibrary)]
    public static partial int SSL_write(SafeSslHandle ssl, ReadOnlySpan<byte> buffer, int count);

    [LibraryImport(SslLibrary)]
    public static partial int SSL_shutdown(SafeSslHandle ssl);

    [LibraryImport(SslLibrary)]
    public static partial IntPtr SSL_get1_peer_certificate(SafeSslHandle ssl);

    [LibraryImport(SslLibrary)]
    public static partial nint SSL_get_verify_result(SafeSslHandle ssl);

    /// <summary>The negotiated version as a static string such as "TLSv1.3"; never freed.</summary>
    [LibraryImport(SslLibrary)]
    public static partial IntPtr SSL_get_version(SafeSslHandle ssl);

    [LibraryImport(CryptoLibrary)]
    public static partial IntPtr BIO_s_mem();

    [LibraryImport(CryptoLibrary)]
    public static partial IntPtr BIO_new(IntPtr method);

    [LibraryImport(CryptoLibrary)]
    public static partial int BIO_free(IntPtr bio);

    [LibraryImport(CryptoLibrary)]
    public static partial int BIO_write(IntPtr bio, ReadOnlySpan<byte> data, int length);

    [LibraryImport(CryptoLibrary)]
    public static partial int BIO_read(IntPtr bio, Span<byte> data, int length);

    [LibraryImport(CryptoLibrary)]
    public static partial nuint BIO_ctrl_pending(IntPtr bio);

    [LibraryImport(CryptoLibrary)]
    public static unsafe partial int i2d_X509(IntPtr certificate, byte** output);

    [LibraryImport(CryptoLibrary)]
    public static partial void X509_free(IntPtr certificate);

    [LibraryImport(CryptoLibrary)]
    public static partial IntPtr X509_STORE_CTX_get0_cert(IntPtr storeContext);

    [LibraryImport(CryptoLibrary)]
    public static partial IntPtr X509_verify_cert_error_string(nint code);

    [LibraryImport(CryptoLibrary)]
    public static partial void ERR_clear_error();

    [LibraryImport(CryptoLibrary)]
    public static partial nuint ERR_get_error();

    [LibraryImport(CryptoLibrary)]
    public static unsafe partial void ERR_error_string_n(nuint code, byte* buffer, nuint length);

    /// <summary>Empties the calling thread's OpenSSL error queue into one line of text ("" when empty).</summary>
    public static unsafe string TakeErrors()
    {
        var messages = new System.Collections.Generic.List<string>();
        Span<byte> buffer = stackalloc byte[256];
        for (nuint code = ERR_get_error(); code != 0; code = ERR_get_error())
        {
            fixed (byte* text = buffer)
            {
                ERR_error_string_n(code, text, (nuint)buffer.Length);
                messages.Add(Marshal.PtrToStringUTF8((IntPtr)text) ?? code.ToString());
            }
        }

        return string.Join("; ", messages);
    }

    /// <summary>The DER encoding of an OpenSSL X509 object.</summary>
    public static unsafe byte[] EncodeCertificate(IntPtr certificate)
    {
        int length = i2d_X509(certificate, null);
        if (length <= 0)
        {
            throw new InvalidOperationException($"i2d_X509 failed: {TakeErrors()}");
        }

        byte[] der = new byte[length];
        fixed (byte* start = der)
        {
            byte* cursor = start;
            i2d_X509(certificate, &cursor);
        }

        return der;
    }
}
