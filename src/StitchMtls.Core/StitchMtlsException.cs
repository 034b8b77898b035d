using System;

namespace StitchMtls;

/// <summary>
/// The kind of failure, named after PowerShell's ErrorCategory members so the cmdlet layer can map it
/// one to one without the core referencing PowerShell.
/// </summary>
public enum FailureCategory
{
    InvalidArgument,
    InvalidData,
    ObjectNotFound,
    ResourceExists,
    SecurityError,
    AuthenticationError,
    PermissionDenied,
    ConnectionError,
    OperationTimeout,
    ReadError,
    WriteError,
    NotImplemented,
    LimitsExceeded,
    InvalidOperation,
}

/// <summary>
/// A failure the user can act on. <see cref="ErrorId"/> is part of the public contract: scripts match on it.
/// </summary>
/// <remarks>Messages never contain key material, client secrets or tokens.</remarks>
public sealed class StitchMtlsException : Exception
{
    public StitchMtlsException(string errorId, FailureCategory category, string message, string? target = null,
        Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorId = errorId;
        Category = category;
        Target = target;
    }

    /// <summary>A stable PascalCase identifier such as <c>KeyCertificateMismatch</c>.</summary>
    public string ErrorId { get; }

    public FailureCategory Category { get; }

    /// <summary>The file, certificate or endpoint the failure is about, when there is one.</summary>
    public string? Target { get; }
}
