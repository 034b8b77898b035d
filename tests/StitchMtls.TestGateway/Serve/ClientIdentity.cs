using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace StitchMtls.TestGateway.Serve;

/// <summary>Who a client is, as far as the gateway cares: the CN of its leaf certificate.</summary>
internal static class ClientIdentity
{
    public const string Unknown = "-";

    public static string? CommonNameOf(X509Certificate2? certificate)
    {
        string? commonName = certificate?.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return string.IsNullOrEmpty(commonName) ? null : commonName;
    }

    /// <summary>The CN made safe for a one-line log entry: control characters become '_'.</summary>
    public static string ForLog(string? commonName)
    {
        if (commonName is null)
        {
            return Unknown;
        }

        var text = new StringBuilder(commonName.Length);
        foreach (char character in commonName)
        {
            text.Append(char.IsControl(character) ? '_' : character);
        }

        return text.ToString();
    }
}
