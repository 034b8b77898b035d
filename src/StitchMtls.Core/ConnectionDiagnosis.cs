using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls;

/// <summary>
/// The gateway's documented failure table in plain words: what each outcome means and what to do about it.
/// </summary>
internal static class ConnectionDiagnosis
{
    private static readonly Dictionary<int, string> s_alertNames = new()
    {
        [10] = "unexpected_message", [20] = "bad_record_mac", [40] = "handshake_failure",
        [42] = "bad_certificate", [43] = "unsupported_certificate", [44] = "certificate_revoked",
        [45] = "certificate_expired", [46] = "certificate_unknown", [47] = "illegal_parameter",
        [48] = "unknown_ca", [49] = "access_denied", [50] = "decode_error", [51] = "decrypt_error",
        [70] = "protocol_version", [71] = "insufficient_security", [80] = "internal_error",
        [112] = "unrecognized_name", [116] = "certificate_required", [120] = "no_application_protocol",
    };

    public static string AlertName(int alert) =>
        s_alertNames.TryGetValue(alert, out string? name) ? name : $"alert {alert}";

    /// <summary>The diagnosis id and words for a TLS alert the server sent about our certificate.</summary>
    public static (string Id, string Text) ForAlert(int alert, ClientCertificate certificate)
    {
        string name = AlertName(alert);
        string missingIntermediate = certificate.Intermediates.Count == 0
            ? " The intermediate certificate was not supplied: pass the chain file Import-StitchChain wrote " +
              "(leaf, intermediate, root), not the leaf alone."
            : string.Empty;
        string notChained = $"The gateway rejected the client certificate '{certificate.Leaf.Subject}' during the " +
            $"TLS handshake ({name}): the certificate does not chain to the CA the gateway trusts. Use the " +
            "certificate Stitch signed for this environment, with its intermediate, and the key it was issued for." +
            missingIntermediate;
        return alert switch
        {
            48 => ("UnknownCa", notChained),
            43 => ("BadCertificate", $"The gateway refused the client certificate '{certificate.Leaf.Subject}' " +
                $"({name}): its key usage does not allow client authentication. A client certificate needs the " +
                "clientAuth extended key usage; ask Stitch for one."),
            42 or 46 => ("BadCertificate", notChained),
            45 => ("ClientCertificateExpired", $"The gateway rejected the client certificate " +
                $"'{certificate.Leaf.Subject}' as expired ({name}). Renew it: New-StitchCsr, then send the CSR to " +
                "Stitch."),
            116 => ClientCertificateRequired(name),
            40 when !CanBeSent(certificate) => ClientCertificateRequired(name),
            70 => ("ProtocolMismatch", $"The gateway refused the TLS version ({name}); it needs TLS 1.2 or 1.3."),
            _ => ("HandshakeFailure", $"The TLS handshake failed with the alert {name}. " + notChained),
        };
    }

    private static (string Id, string Text) ClientCertificateRequired(string alertName) =>
        ("ClientCertificateRequired", $"The gateway requires a client certificate and received none ({alertName}). " +
            "Check that the certificate has its private key and, if it lists extended key usages, clientAuth.");

    /// <summary>Whether a certificate was presented at all: without its key, nothing is.</summary>
    private static bool CanBeSent(ClientCertificate certificate) => certificate.Leaf.HasPrivateKey;

    /// <summary>
    /// Masks the secrets a test sent wherever text from the server is quoted: a server or proxy that echoes the
    /// request must not make a diagnosis, a log or a transcript carry them.
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? Redact(string? text, params string?[] secrets)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        foreach (string? secret in secrets)
        {
            if (!string.IsNullOrEmpty(secret))
            {
                // Percent-encoded forms too, in either case of hex digit, as a server may echo the form body.
                text = text.Replace(secret, "********", System.StringComparison.Ordinal)
                    .Replace(System.Uri.EscapeDataString(secret), "********", System.StringComparison.OrdinalIgnoreCase)
                    .Replace(System.Net.WebUtility.UrlEncode(secret), "********",
                        System.StringComparison.OrdinalIgnoreCase);
            }
        }

        return text;
    }

    /// <summary>A short, single-line piece of a response body, with anything token-like left out.</summary>
    public static string Excerpt(string body)
    {
        string flat = System.Text.RegularExpressions.Regex.Replace(body, @"\s+", " ").Trim();
        if (flat.Contains("token", System.StringComparison.OrdinalIgnoreCase))
        {
            return "(body withheld: it mentions a token)";
        }

        return flat.Length <= 200 ? flat : flat.Substring(0, 200) + "…";
    }

    /// <summary>Stitch's documented answer to a timeout: an egress firewall, and the address to allow.</summary>
    public static string ConnectTimeout(string target, string address, int port, double seconds)
    {
        return $"No TCP connection to {target} within {seconds:0} s: the traffic is probably dropped by an egress " +
            $"firewall. Allow outbound TCP port {port} to {address}.";
    }

    public static string RbacDenied(ClientCertificate certificate, string endpoint)
    {
        string names = certificate.DnsNames.Count == 0
            ? "no subject alternative names"
            : "SANs " + string.Join(", ", certificate.DnsNames);
        return "The TLS handshake succeeded, but the gateway answered 403 'RBAC: access denied': the certificate " +
            $"CN '{certificate.CommonName}' ({names}) is not enabled for {endpoint}. Ask Stitch's onboarding team " +
            $"to enable CN '{certificate.CommonName}' (thumbprint {certificate.Leaf.Thumbprint}) for this endpoint.";
    }

    /// <summary>
    /// The ErrorId and diagnosis of an OAuth error response. Only the codes of RFC 6749 (sections 5.2 and 4.1.2.1)
    /// get an ErrorId of their own (<c>Token</c> and the code in PascalCase); any other code is
    /// <c>TokenRequestFailed</c> with the code in the message, so the set of ErrorIds stays fixed whatever a server
    /// sends.
    /// </summary>
    /// <param name="error">The <c>error</c> code, redacted.</param>
    /// <param name="description">The <c>error_description</c>, redacted.</param>
    /// <param name="assertionCertificate">The private_key_jwt certificate; null with a client secret.</param>
    public static (string Id, string Text) ForOAuthError(string error, string? description,
        X509Certificate2? assertionCertificate = null)
    {
        string detail = string.IsNullOrWhiteSpace(description) ? string.Empty : $" The server said: {description}";
        return error switch
        {
            "invalid_client" when assertionCertificate is not null => ("TokenInvalidClient", "The certificate was " +
                "accepted, but the token endpoint rejected the client assertion (invalid_client): the assertion " +
                $"certificate '{assertionCertificate.Subject}' (thumbprint {assertionCertificate.Thumbprint}) is not " +
                "the one registered with Stitch for private_key_jwt, or the client is not enabled for mTLS. Check " +
                "-ClientAssertionCertificate and -ClientId, then ask Stitch which certificate is registered." + detail),
            "invalid_client" => ("TokenInvalidClient", "The certificate was accepted, but the token endpoint " +
                "rejected the client credentials (invalid_client): the client ID or secret is wrong, or the client " +
                "is not enabled for mTLS. Check -Credential, then ask Stitch to enable the client for mTLS." + detail),
            "invalid_scope" => ("TokenInvalidScope", "The token endpoint rejected the requested scopes " +
                "(invalid_scope): request only scopes this client is granted." + detail),
            "unauthorized_client" => ("TokenUnauthorizedClient", "The client may not use the client_credentials " +
                "grant (unauthorized_client). Ask Stitch to enable it." + detail),
            "server_error" or "temporarily_unavailable" => ("Token" + ToPascalCase(error), "The token endpoint " +
                $"could not issue a token for now ({error}). Try again later; if it persists, report it to Stitch " +
                "with the time of the call." + detail),
            "invalid_request" or "invalid_grant" or "unsupported_grant_type" or "access_denied" =>
                ("Token" + ToPascalCase(error), $"The token endpoint rejected the request ({error})." + detail),
            _ => ("TokenRequestFailed", $"The token endpoint rejected the request with the error code '{error}'." +
                detail),
        };
    }

    /// <summary>What kind of failure an OAuth error code is, for the ErrorRecord's category.</summary>
    public static FailureCategory OAuthErrorCategory(string error) => error switch
    {
        "invalid_client" or "unauthorized_client" or "invalid_grant" => FailureCategory.AuthenticationError,
        "access_denied" => FailureCategory.PermissionDenied,
        "server_error" or "temporarily_unavailable" => FailureCategory.ResourceUnavailable,
        "invalid_request" or "unsupported_grant_type" or "invalid_scope" => FailureCategory.InvalidArgument,
        _ => FailureCategory.InvalidOperation,
    };

    /// <summary><c>invalid_client</c> as <c>InvalidClient</c>, <c>NOT_FOUND</c> as <c>NotFound</c>.</summary>
    internal static string ToPascalCase(string code)
    {
        var text = new System.Text.StringBuilder();
        foreach (string part in code.Split('_', System.StringSplitOptions.RemoveEmptyEntries))
        {
            string letters = new(System.Array.FindAll(part.ToCharArray(), char.IsAsciiLetterOrDigit));
            if (letters.Length > 0)
            {
                text.Append(char.ToUpperInvariant(letters[0])).Append(letters.Substring(1).ToLowerInvariant());
            }
        }

        return text.Length == 0 ? "Error" : text.ToString();
    }
}
