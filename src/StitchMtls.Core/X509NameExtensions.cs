using System.Security.Cryptography.X509Certificates;

namespace StitchMtls;

internal static class X509NameExtensions
{
    /// <summary>The CN of a distinguished name, or the empty string when it has none.</summary>
    public static string GetSimpleName(this X500DistinguishedName name)
    {
        foreach (X500RelativeDistinguishedName rdn in name.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.GetSingleElementType().Value == "2.5.4.3")
            {
                return rdn.GetSingleElementValue() ?? string.Empty;
            }
        }

        return string.Empty;
    }
}
