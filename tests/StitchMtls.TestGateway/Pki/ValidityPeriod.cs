using System;

namespace StitchMtls.TestGateway.Pki;

/// <summary>
/// The NotBefore and NotAfter of a leaf the signing desk issues. Tests ask for leaves that are
/// expired, about to expire or not yet valid, so both ends may lie in the past or the future.
/// </summary>
internal readonly record struct ValidityPeriod(DateTimeOffset NotBefore, DateTimeOffset NotAfter)
{
    public const int DefaultDays = 365;

    /// <summary>Slack for clocks that run a little behind ours when a leaf is valid from now.</summary>
    private static readonly TimeSpan s_clockSkew = TimeSpan.FromMinutes(1);

    /// <summary>Works out the period from the command-line options.</summary>
    /// <param name="now">The moment of issue.</param>
    /// <param name="days">Lifetime in days counted from the start (--days).</param>
    /// <param name="expiresInDays">NotAfter as days from now (--expires-in-days); not with --days.</param>
    /// <param name="validFromDays">NotBefore as days from now (--valid-from-days).</param>
    /// <exception cref="GatewayInputException">The options conflict or give an empty period.</exception>
    public static ValidityPeriod FromOptions(DateTimeOffset now, int? days, int? expiresInDays, int? validFromDays)
    {
        if (days.HasValue && expiresInDays.HasValue)
        {
            throw new GatewayInputException("Options '--days' and '--expires-in-days' cannot be used together.");
        }

        ValidityPeriod period;
        if (expiresInDays.HasValue)
        {
            DateTimeOffset notAfter = now.AddDays(expiresInDays.Value);
            DateTimeOffset notBefore = validFromDays.HasValue
                ? StartOf(now, validFromDays.Value)
                : notAfter.AddDays(-DefaultDays);
            period = new ValidityPeriod(notBefore, notAfter);
        }
        else
        {
            int offset = validFromDays ?? 0;
            DateTimeOffset notAfter = now.AddDays(offset + (days ?? DefaultDays));
            period = new ValidityPeriod(StartOf(now, offset), notAfter);
        }

        if (period.NotAfter <= period.NotBefore)
        {
            throw new GatewayInputException(
                $"The validity period is empty: NotBefore {period.NotBefore:u} is not before NotAfter "
                + $"{period.NotAfter:u}.");
        }

        return period;
    }

    private static DateTimeOffset StartOf(DateTimeOffset now, int validFromDays) =>
        validFromDays == 0 ? now - s_clockSkew : now.AddDays(validFromDays);
}
