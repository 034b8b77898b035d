using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls;

/// <summary>Where a certificate stands against Stitch's reminder calendar.</summary>
public sealed class StitchCertExpiry
{
    public required string Subject { get; init; }

    public required string CommonName { get; init; }

    public required string Thumbprint { get; init; }

    public required DateTime NotBefore { get; init; }

    public required DateTime NotAfter { get; init; }

    /// <summary>Whole days until expiry, a part day counting as a day; 0 or less once expired.</summary>
    public required int DaysRemaining { get; init; }

    /// <summary>
    /// <c>Ok</c>, <c>Reminder&lt;N&gt;</c> (N from the reminder days), <c>Expired</c> or <c>NotYetValid</c>; for a
    /// store certificate already renewed, <c>Superseded</c> (see <see cref="SupersededBy"/>).
    /// </summary>
    public required string Status { get; init; }

    /// <summary>
    /// The thumbprint of the newer, valid certificate with the same subject and a key in the same store that
    /// replaced this one; set when <see cref="Status"/> is <c>Superseded</c>.
    /// </summary>
    public string? SupersededBy { get; init; }

    /// <summary>The date of the next reminder still ahead, or null when none is left.</summary>
    public DateTime? NextReminder { get; init; }

    /// <summary>The file the certificate came from, when it came from one.</summary>
    public string? Path { get; init; }

    /// <summary>A reminder, expired or not yet valid: not <c>Ok</c>, and not a certificate already renewed.</summary>
    public bool NeedsAttention => Status is not (ExpiryCalculator.Ok or ExpiryCalculator.Superseded);
}

/// <summary>
/// Applies Stitch's reminder schedule (60, 30, 14 and 7 days before expiry) to certificates.
/// </summary>
/// <remarks>
/// The boundary rule: <see cref="StitchCertExpiry.DaysRemaining"/> rounds a part day up, so a certificate that
/// expires in 30 days and 5 hours has 31 days remaining, one that expires in exactly 30 days (or 29 days and 5
/// hours) has 30. A certificate is at <c>ReminderN</c> when DaysRemaining ≤ N, for the smallest such N: exactly
/// 30 days is <c>Reminder30</c>, 31 days is <c>Reminder60</c>.
/// </remarks>
public static class ExpiryCalculator
{
    public const string Ok = "Ok";

    public const string Expired = "Expired";

    public const string NotYetValid = "NotYetValid";

    /// <summary>A store certificate that a newer, valid one with the same subject and a key has replaced.</summary>
    public const string Superseded = "Superseded";

    public static readonly IReadOnlyList<int> StitchReminderDays = new[] { 60, 30, 14, 7 };

    public static int DaysRemaining(DateTime notAfterUtc, DateTime nowUtc)
    {
        return (int)Math.Ceiling((notAfterUtc - nowUtc).TotalDays);
    }

    public static IReadOnlyList<int> NormalizeReminderDays(IEnumerable<int>? reminderDays)
    {
        List<int> days = (reminderDays ?? StitchReminderDays).Distinct().OrderBy(day => day).ToList();
        if (days.Count == 0 || days.Any(day => day < 1 || day > 3650))
        {
            throw new StitchMtlsException("ReminderDaysInvalid", FailureCategory.InvalidArgument,
                "Reminder days must be whole numbers from 1 to 3650, for example 60, 30, 14, 7.", null);
        }

        return days;
    }

    /// <summary>
    /// Where <paramref name="certificate"/> stands at <paramref name="nowUtc"/>. With
    /// <paramref name="supersededBy"/>, the thumbprint of the certificate that replaced it
    /// (<see cref="SuccessorOf"/>), the status is <c>Superseded</c> whatever the dates say, and no reminder is
    /// ahead. <paramref name="path"/> is where it came from, for the report.
    /// </summary>
    public static StitchCertExpiry Evaluate(X509Certificate2 certificate, DateTime nowUtc,
        IReadOnlyList<int> reminderDays, string? path = null, string? supersededBy = null)
    {
        DateTime notBefore = certificate.NotBefore.ToUniversalTime();
        DateTime notAfter = certificate.NotAfter.ToUniversalTime();
        int daysRemaining = DaysRemaining(notAfter, nowUtc);

        string status;
        if (supersededBy is not null)
        {
            status = Superseded;
        }
        else if (nowUtc >= notAfter)
        {
            status = Expired;
        }
        else if (nowUtc < notBefore)
        {
            status = NotYetValid;
        }
        else
        {
            int? reminder = reminderDays.Where(day => daysRemaining <= day).Cast<int?>().Min();
            status = reminder is null ? Ok : $"Reminder{reminder}";
        }

        DateTime? nextReminder = supersededBy is not null ? null : reminderDays
            .Select(day => notAfter.AddDays(-day))
            .Where(date => date > nowUtc)
            .Cast<DateTime?>()
            .Min();

        return new StitchCertExpiry
        {
            Subject = certificate.Subject,
            CommonName = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false),
            Thumbprint = certificate.Thumbprint,
            NotBefore = notBefore,
            NotAfter = notAfter,
            DaysRemaining = daysRemaining,
            Status = status,
            NextReminder = nextReminder,
            Path = path,
            SupersededBy = supersededBy,
        };
    }

    /// <summary>
    /// The certificate among <paramref name="sameStore"/> that has replaced <paramref name="certificate"/>: the
    /// same subject (byte for byte), a private key, valid now and expiring later; the newest such one. A renewal
    /// completed without <c>-RemovePrevious</c> leaves exactly this pair behind, and the old certificate's
    /// reminders are then noise: the one in use is the successor, which is reported on its own.
    /// </summary>
    public static X509Certificate2? SuccessorOf(X509Certificate2 certificate, IEnumerable<X509Certificate2> sameStore,
        DateTime nowUtc)
    {
        byte[] subject = certificate.SubjectName.RawData;
        return sameStore
            .Where(candidate => !string.Equals(candidate.Thumbprint, certificate.Thumbprint,
                    StringComparison.OrdinalIgnoreCase)
                && candidate.SubjectName.RawData.AsSpan().SequenceEqual(subject)
                && candidate.NotAfter > certificate.NotAfter
                && candidate.NotBefore.ToUniversalTime() <= nowUtc
                && nowUtc < candidate.NotAfter.ToUniversalTime()
                && candidate.HasPrivateKey)
            .OrderByDescending(candidate => candidate.NotBefore)
            .ThenByDescending(candidate => candidate.NotAfter)
            .FirstOrDefault();
    }

    /// <summary>The certificate a file is about: the first end-entity certificate, else the first one.</summary>
    public static X509Certificate2 SubjectCertificate(IReadOnlyList<X509Certificate2> certificates)
    {
        return certificates.FirstOrDefault(certificate =>
                certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault()?
                    .CertificateAuthority != true)
            ?? certificates[0];
    }
}
