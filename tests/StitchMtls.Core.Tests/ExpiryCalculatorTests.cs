using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace StitchMtls.Tests;

public class ExpiryCalculatorTests
{
    // Certificates carry whole seconds, so "now" does too.
    private static readonly DateTime s_now = DateTime.UnixEpoch.AddSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    [Theory]
    [InlineData(61 * 24.0, 61, "Ok")]
    [InlineData(60 * 24.0 + 1, 61, "Ok")]
    [InlineData(60 * 24.0, 60, "Reminder60")]
    [InlineData(31 * 24.0, 31, "Reminder60")]
    [InlineData(30 * 24.0, 30, "Reminder30")]
    [InlineData(29 * 24.0 + 5, 30, "Reminder30")]
    [InlineData(14 * 24.0, 14, "Reminder14")]
    [InlineData(7 * 24.0, 7, "Reminder7")]
    [InlineData(24.0, 1, "Reminder7")]
    [InlineData(0.5, 1, "Reminder7")]
    [InlineData(-24.0, -1, "Expired")]
    public void AppliesStitchsCalendarWithPartDaysRoundedUp(double hoursLeft, int days, string status)
    {
        TestPki pki = TestPki.Shared;
        using RSA key = RSA.Create(2048);
        DateTime notAfter = s_now.AddHours(hoursLeft);
        using var leaf = pki.IssueLeaf(key, "stitch-prod.example.com", s_now.AddDays(-300), notAfter);

        StitchCertExpiry expiry = ExpiryCalculator.Evaluate(leaf, s_now, ExpiryCalculator.StitchReminderDays);

        Assert.Equal(days, expiry.DaysRemaining);
        Assert.Equal(status, expiry.Status);
    }

    [Fact]
    public void ReportsNotYetValidAndTheNextReminder()
    {
        TestPki pki = TestPki.Shared;
        using RSA key = RSA.Create(2048);
        using var leaf = pki.IssueLeaf(key, "stitch-prod.example.com", s_now.AddDays(2), s_now.AddDays(367));

        StitchCertExpiry expiry = ExpiryCalculator.Evaluate(leaf, s_now, ExpiryCalculator.StitchReminderDays);

        Assert.Equal("NotYetValid", expiry.Status);
        Assert.Equal(s_now.AddDays(367 - 60), expiry.NextReminder);
    }

    [Fact]
    public void ReportsACertificateRenewedInTheSameStoreAsSupersededWithoutAttention()
    {
        TestPki pki = TestPki.Shared;
        using RSA oldKey = RSA.Create(2048);
        using RSA newKey = RSA.Create(2048);
        using var previous = pki.IssueLeaf(oldKey, "stitch-prod.example.com", s_now.AddDays(-355), s_now.AddDays(10));
        using var renewed = pki.IssueLeaf(newKey, "stitch-prod.example.com", s_now.AddDays(-1), s_now.AddDays(364))
            .CopyWithPrivateKey(newKey);

        string? successor = ExpiryCalculator.SuccessorOf(previous, new[] { previous, renewed }, s_now)?.Thumbprint;
        StitchCertExpiry expiry = ExpiryCalculator.Evaluate(previous, s_now, ExpiryCalculator.StitchReminderDays,
            supersededBy: successor);

        Assert.Equal(renewed.Thumbprint, successor);
        Assert.Equal("Superseded", expiry.Status);
        Assert.Equal(renewed.Thumbprint, expiry.SupersededBy);
        Assert.False(expiry.NeedsAttention);
        Assert.Null(expiry.NextReminder);
        Assert.Null(ExpiryCalculator.SuccessorOf(renewed, new[] { previous, renewed }, s_now));
    }

    [Fact]
    public void DoesNotCountANewerCertificateWithoutItsKeyOrAnotherNameAsASuccessor()
    {
        TestPki pki = TestPki.Shared;
        using RSA key = RSA.Create(2048);
        using var previous = pki.IssueLeaf(key, "stitch-prod.example.com", s_now.AddDays(-355), s_now.AddDays(10));
        using var keyless = pki.IssueLeaf(key, "stitch-prod.example.com", s_now.AddDays(-1), s_now.AddDays(364));
        using var otherName = pki.IssueLeaf(key, "other.example.com", s_now.AddDays(-1), s_now.AddDays(364))
            .CopyWithPrivateKey(key);

        Assert.Null(ExpiryCalculator.SuccessorOf(previous, new[] { previous, keyless, otherName }, s_now));
        Assert.Equal("Reminder14", ExpiryCalculator.Evaluate(previous, s_now, ExpiryCalculator.StitchReminderDays)
            .Status);
    }

    [Fact]
    public void HonoursCustomReminderDays()
    {
        TestPki pki = TestPki.Shared;
        using RSA key = RSA.Create(2048);
        using var leaf = pki.IssueLeaf(key, "stitch-prod.example.com", s_now.AddDays(-300), s_now.AddDays(80));

        var days = ExpiryCalculator.NormalizeReminderDays(new[] { 30, 90 });
        StitchCertExpiry expiry = ExpiryCalculator.Evaluate(leaf, s_now, days);

        Assert.Equal("Reminder90", expiry.Status);
        Assert.Equal(s_now.AddDays(50), expiry.NextReminder);
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 0 })]
    [InlineData(new[] { 30, -7 })]
    public void RejectsReminderDaysOutsideOneToTenYears(int[] days)
    {
        var error = Assert.Throws<StitchMtlsException>(() => ExpiryCalculator.NormalizeReminderDays(days));

        Assert.Equal("ReminderDaysInvalid", error.ErrorId);
    }
}
