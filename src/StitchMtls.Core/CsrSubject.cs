using System;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace StitchMtls;

/// <summary>
/// The subject Stitch asks for: C, O and CN, in that order, encoded exactly as
/// <c>openssl req -subj "/C=../O=../CN=.."</c> encodes them (countryName as PrintableString, the others as
/// UTF8String under OpenSSL's default <c>string_mask = utf8only</c>), so a CA policy cannot tell the two apart.
/// </summary>
public sealed class CsrSubject
{
    /// <summary>
    /// RFC 5280 upper bound for commonName and organizationName (ub-common-name, ub-organization-name).
    /// </summary>
    public const int MaxNameLength = 64;

    private static readonly Regex s_dnsLabel = new("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex s_recommendedFirstLabel = new("^[a-z0-9]+(-[a-z0-9]+)+$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    public CsrSubject(string commonName, string organization, string country)
    {
        CommonName = ValidateCommonName(commonName);
        Organization = ValidateOrganization(organization);
        Country = ValidateCountry(country);
    }

    public string CommonName { get; }

    public string Organization { get; }

    public string Country { get; }

    /// <summary>
    /// True when the CN has the recommended form <c>&lt;purpose&gt;-&lt;environment&gt;.&lt;domain&gt;</c>,
    /// such as <c>stitch-prod.example.com</c>: a hyphenated first label and a domain of at least two labels.
    /// </summary>
    public bool FollowsRecommendedForm
    {
        get
        {
            string[] labels = CommonName.Split('.');
            return labels.Length >= 3 && s_recommendedFirstLabel.IsMatch(labels[0]);
        }
    }

    public X500DistinguishedName ToDistinguishedName()
    {
        // The builder emits RDNs in reverse order of the calls, so CN goes in first to come out last.
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(CommonName);
        builder.AddOrganizationName(Organization);
        builder.AddCountryOrRegion(Country);
        return builder.Build();
    }

    public override string ToString() => ToDistinguishedName().Name;

    private static string ValidateCommonName(string commonName)
    {
        string value = (commonName ?? string.Empty).Trim();
        string[] labels = value.Split('.');
        bool valid = value.Length is > 0 and <= MaxNameLength
            && labels.Length >= 2
            && labels.All(label => s_dnsLabel.IsMatch(label));
        if (!valid)
        {
            throw new StitchMtlsException("CommonNameInvalid", FailureCategory.InvalidArgument,
                $"The common name '{value}' is not a valid DNS-style name. Use letters, digits and hyphens in " +
                $"dot-separated labels, at most {MaxNameLength} characters, no wildcard or spaces, for example " +
                "'stitch-prod.example.com'.", value);
        }

        return value;
    }

    private static string ValidateOrganization(string organization)
    {
        string value = (organization ?? string.Empty).Trim();
        if (value.Length == 0 || value.Length > MaxNameLength || value.Any(char.IsControl))
        {
            throw new StitchMtlsException("OrganizationInvalid", FailureCategory.InvalidArgument,
                $"The organization '{value}' is not valid. Give your registered company name, 1 to " +
                $"{MaxNameLength} characters without control characters.", value);
        }

        return value;
    }

    private static string ValidateCountry(string country)
    {
        string value = (country ?? string.Empty).Trim();
        if (value.Length != 2 || !value.All(c => c is >= 'A' and <= 'Z' or >= 'a' and <= 'z'))
        {
            throw new StitchMtlsException("CountryInvalid", FailureCategory.InvalidArgument,
                $"The country '{value}' is not a two-letter ISO 3166 code. Use for example 'ZA'.", value);
        }

        return value.ToUpper(CultureInfo.InvariantCulture);
    }
}
