using System;
using System.Diagnostics;
using System.Runtime.Versioning;
using System.Security;

namespace StitchMtls.Platform;

/// <summary>
/// The Windows Application event log entries of Get-StitchCertExpiry -EventLog, under the source
/// <see cref="Source"/>. The event IDs are part of the public contract: monitoring rules match on them.
/// </summary>
public static class ExpiryEventLog
{
    public const string Source = "StitchMtls";

    public const string LogName = "Application";

    /// <summary>Information: the scan ran; the message counts what it read and what needs attention.</summary>
    public const int ScanCompleted = 1000;

    /// <summary>Warning: a certificate has reached a reminder day (ReminderN).</summary>
    public const int ReminderReached = 1001;

    /// <summary>Error: a certificate has expired.</summary>
    public const int CertificateExpired = 1002;

    /// <summary>Warning: a certificate is not valid yet.</summary>
    public const int CertificateNotYetValid = 1003;

    public static bool IsSupported => OperatingSystem.IsWindows();

    /// <summary>
    /// Makes sure the source exists, creating it when the account may (creating needs administrator rights
    /// once). Returns null when the source is usable, else a sentence saying how to register it.
    /// </summary>
    public static string? EnsureSource()
    {
        if (!OperatingSystem.IsWindows())
        {
            return "The event log exists only on Windows.";
        }

        return EnsureWindowsSource();
    }

    public static void WriteExpiry(StitchCertExpiry expiry, string message)
    {
        if (!OperatingSystem.IsWindows())
        {
            return;
        }

        (int id, EventLogEntryType type) = expiry.Status switch
        {
            ExpiryCalculator.Expired => (CertificateExpired, EventLogEntryType.Error),
            ExpiryCalculator.NotYetValid => (CertificateNotYetValid, EventLogEntryType.Warning),
            _ => (ReminderReached, EventLogEntryType.Warning),
        };
        EventLog.WriteEntry(Source, message, type, id);
    }

    public static void WriteSummary(string message)
    {
        if (OperatingSystem.IsWindows())
        {
            EventLog.WriteEntry(Source, message, EventLogEntryType.Information, ScanCompleted);
        }
    }

    [SupportedOSPlatform("windows")]
    private static string? EnsureWindowsSource()
    {
        try
        {
            if (EventLog.SourceExists(Source))
            {
                return null;
            }
        }
        catch (SecurityException)
        {
            // Searching every log, the Security log included, needs administrator rights; creating does too.
        }

        try
        {
            EventLog.CreateEventSource(new EventSourceCreationData(Source, LogName));
            return null;
        }
        catch (Exception ex) when (ex is SecurityException or UnauthorizedAccessException
            or InvalidOperationException)
        {
            return $"The event source '{Source}' is not registered and this account may not create it. Run once, " +
                $"elevated: New-EventLog -LogName {LogName} -Source {Source}";
        }
    }
}
