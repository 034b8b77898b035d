using System;
using System.Runtime.InteropServices;

namespace StitchMtls.TestGateway.Serve.OpenSsl;

/// <summary>An OpenSSL <c>SSL_CTX</c>: the server's certificate, trust anchor and protocol settings.</summary>
internal sealed class SafeSslContextHandle : SafeHandle
{
    public SafeSslContextHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibSsl.SSL_CTX_free(handle);
        return true;
    }
}

/// <summary>An OpenSSL <c>SSL</c>: one connection's TLS state, which owns its two memory BIOs.</summary>
internal sealed class SafeSslHandle : SafeHandle
{
    public SafeSslHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibSsl.SSL_free(handle);
        return true;
    }
}
