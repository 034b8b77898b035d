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
    /// <c>Ok</c>, <c>Reminder&lt;N&gt;</c> (N from the reminder days), <c>Expired</c> or <c>NotYetValid</c>.
    /// </summary>
    public required string Status { get; init; }

    /// <summary>The date of the next reminder still ahead, or null when none is left.</summary>
    public DateTime? NextReminder { get; init; }

    /// <summary>The file the certificate came from, when it came from one.</summary>
    public string? Path { get; init; }

    public bool NeedsAttention => Status != ExpiryCalculator.Ok;
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

    public static StitchCertExpiry Evaluate(X509Certificate2 certificate, DateTime nowUtc,
        IReadOnlyList<int> reminderDays, string? path = null)
    {
        DateTime notBefore = certificate.NotBefore.ToUniversalTime();
        DateTime notAfter = certificate.NotAfter.ToUniversalTime();
        int daysRemaining = DaysRemaining(notAfter, nowUtc);

        string status;
        if (nowUtc >= notAfter)
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

        DateTime? nextReminder = reminderDays
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
        };
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
