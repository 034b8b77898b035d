using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls;

/// <summary>What the pre-flight check found: a blocking problem, or warnings, or nothing.</summary>
public sealed class PreFlightOutcome
{
    public string? FailureId { get; init; }

    public string? FailureText { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
}

/// <summary>
/// Checks the client certificate before any traffic: problems that would otherwise surface as a vague TLS
/// failure at the gateway, or not at all.
/// </summary>
public static class PreFlight
{
    public const string ClientAuthenticationOid = "1.3.6.1.5.5.7.3.2";

    public static PreFlightOutcome Check(ClientCertificate certificate, DateTime nowUtc)
    {
        X509Certificate2 leaf = certificate.Leaf;
        if (certificate.KeyProblem == "KeyCertificateMismatch")
        {
            return Fail("KeyCertificateMismatch", $"The private key does not belong to the certificate " +
                $"'{leaf.Subject}'. Use the key that was generated with this certificate's CSR.");
        }

        if (!leaf.HasPrivateKey)
        {
            return Fail("PrivateKeyMissing", $"The certificate '{leaf.Subject}' has no private key, so it cannot " +
                "authenticate a TLS client (a .cer file alone, or a PFX exported without its key). Give the " +
                "certificate with its key, or -CertificatePath with -KeyPath.");
        }

        try
        {
            ChainValidator.CheckValidityPeriod(leaf, nowUtc);
        }
        catch (StitchMtlsException ex)
        {
            return Fail(ex.ErrorId, ex.Message);
        }

        if (!AllowsClientAuthentication(leaf))
        {
            return Fail("ClientAuthEkuMissing", $"The certificate '{leaf.Subject}' has an extended key usage " +
                "without clientAuth (1.3.6.1.5.5.7.3.2): it is not a client certificate, and the gateway refuses it " +
                "(some TLS stacks do not even offer it). Ask Stitch for a client certificate.");
        }

        var warnings = new List<string>();
        if (certificate.Intermediates.Count == 0 && !ClientChain.IsSelfIssued(leaf))
        {
            warnings.Add($"No intermediate certificate was supplied with '{leaf.Subject}'; without it the gateway " +
                "answers unknown_ca. Use the chain file Import-StitchChain wrote.");
        }

        return new PreFlightOutcome { Warnings = warnings };
    }

    /// <summary>True when the certificate has no extended key usage, or one that includes clientAuth.</summary>
    public static bool AllowsClientAuthentication(X509Certificate2 certificate)
    {
        X509EnhancedKeyUsageExtension? eku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .FirstOrDefault();
        return eku is null || eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>()
            .Any(oid => oid.Value == ClientAuthenticationOid);
    }

    private static PreFlightOutcome Fail(string id, string text) => new() { FailureId = id, FailureText = text };
}
