using System;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace StitchMtls.TestGateway.Serve;

/// <summary>Puts TLS with a required client certificate on the gateway's one listening endpoint.</summary>
internal interface ITlsTermination : IDisposable
{
    void Apply(ListenOptions listen);
}
