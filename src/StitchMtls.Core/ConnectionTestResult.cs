using System;
using System.Collections.Generic;

namespace StitchMtls;

/// <summary>The steps of a connection test, in the order they run.</summary>
public enum ConnectionStage
{
    PreFlight,
    Resolve,
    Connect,
    Proxy,
    Tls,
    Http,
    Token,
}

/// <summary>One timed step of a connection test.</summary>
public sealed class ConnectionStageResult
{
    public required ConnectionStage Stage { get; init; }

    public required bool Success { get; set; }

    public required TimeSpan Duration { get; init; }

    public required string Detail { get; set; }

    public override string ToString() => $"{Stage}: {(Success ? "ok" : "failed")} ({Duration.TotalMilliseconds:0} ms)";
}

/// <summary>What Test-StitchMtls found for one endpoint.</summary>
public sealed class StitchMtlsTestResult
{
    public required string Endpoint { get; init; }

    public required bool Success { get; init; }

    /// <summary>The last stage reached: the one that failed, or the final one on success.</summary>
    public required ConnectionStage Stage { get; init; }

    public ConnectionStage? FailedStage { get; init; }

    /// <summary>A stable name for the outcome, such as <c>UnknownCa</c> or <c>RbacDenied</c>.</summary>
    public required string DiagnosisId { get; init; }

    /// <summary>What happened and what to do, in plain words. Never holds a secret or token.</summary>
    public required string Diagnosis { get; init; }

    public string? TlsProtocol { get; init; }

    public string? ClientCertificateSubject { get; init; }

    public string? ClientCertificateThumbprint { get; init; }

    public string? RemoteAddress { get; init; }

    /// <summary>The proxy the connection went through, or null for a direct connection.</summary>
    public string? Proxy { get; init; }

    public int? HttpStatus { get; init; }

    public TimeSpan? TokenLifetime { get; init; }

    public required IReadOnlyList<ConnectionStageResult> Stages { get; init; }
}
