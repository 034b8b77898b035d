using System;

namespace StitchMtls.TestGateway.Commands;

/// <summary>The options <c>sign</c> and <c>issue</c> share: the leaf's lifetime and its clientAuth usage.</summary>
internal static class LeafOptions
{
    public static readonly string[] ValueNames = ["pki", "days", "expires-in-days", "valid-from-days"];

    public static readonly string[] FlagNames = ["no-eku"];

    private const int MaxDays = 36500;

    public static Pki.ValidityPeriod ReadValidity(CommandLineOptions options) =>
        Pki.ValidityPeriod.FromOptions(
            DateTimeOffset.UtcNow,
            options.GetInt32("days", min: 1, max: MaxDays),
            options.GetInt32("expires-in-days", min: -MaxDays, max: MaxDays),
            options.GetInt32("valid-from-days", min: -MaxDays, max: MaxDays));

    public static bool ReadClientAuthentication(CommandLineOptions options) => !options.HasFlag("no-eku");
}
