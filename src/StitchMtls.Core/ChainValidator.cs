using System;
using System.Linq;
using System.Security.Cryptography.X509Certificates;

namespace StitchMtls;

/// <summary>
/// Checks a client chain before anything is written: complete up to a root, every certificate inside its
/// validity period, and signatures that build to the supplied root as the only trust anchor (no system roots:
/// the gateway trusts Stitch's private CA, not the public ones).
/// </summary>
public static class ChainValidator
{
    /// <exception cref="StitchMtlsException">
    /// <c>ChainIncomplete</c>, <c>CertificateExpired</c>, <c>CertificateNotYetValid</c> or <c>ChainUntrusted</c>.
    /// </exception>
    public static void Validate(ClientChain chain, DateTime nowUtc)
    {
        if (chain.Issuers.Count == 0 && ClientChain.IsSelfIssued(chain.Leaf))
        {
            throw new StitchMtlsException("ChainIncomplete", FailureCategory.InvalidData,
                $"The certificate '{chain.Leaf.Subject}' is self-signed, while Stitch's certificates are issued by " +
                "its CA. Supply the chain Stitch sent (leaf, intermediate and root).", chain.Leaf.Subject);
        }

        string? missing = chain.DescribeMissing();
        if (missing is not null)
        {
            throw new StitchMtlsException("ChainIncomplete", FailureCategory.InvalidData,
                $"The chain is incomplete: {missing} is missing. Supply the full chain Stitch sent (leaf, " +
                "intermediate and root), as one file or as separate files.", chain.Leaf.Subject);
        }

        foreach (X509Certificate2 certificate in chain.InOrder)
        {
            CheckValidityPeriod(certificate, nowUtc);
        }

        using var x509Chain = new X509Chain();
        x509Chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        x509Chain.ChainPolicy.CustomTrustStore.Add(chain.Root!);
        x509Chain.ChainPolicy.ExtraStore.AddRange(chain.Intermediates.ToArray());
        x509Chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        x509Chain.ChainPolicy.DisableCertificateDownloads = true;
        x509Chain.ChainPolicy.VerificationTime = nowUtc;
        if (!x509Chain.Build(chain.Leaf))
        {
            string reasons = string.Join("; ", x509Chain.ChainStatus
                .Select(status => $"{status.Status}: {status.StatusInformation.Trim()}").Distinct());
            throw new StitchMtlsException("ChainUntrusted", FailureCategory.SecurityError,
                $"The chain for '{chain.Leaf.Subject}' does not build to the supplied root '{chain.Root!.Subject}' " +
                $"({reasons}). Check that the files belong together and were not altered.", chain.Leaf.Subject);
        }
    }

    public static void CheckValidityPeriod(X509Certificate2 certificate, DateTime nowUtc)
    {
        DateTime notBefore = certificate.NotBefore.ToUniversalTime();
        DateTime notAfter = certificate.NotAfter.ToUniversalTime();
        if (nowUtc > notAfter)
        {
            throw new StitchMtlsException("CertificateExpired", FailureCategory.InvalidData,
                $"The certificate '{certificate.Subject}' expired on {notAfter:yyyy-MM-dd HH:mm} UTC. Request a " +
                "new one with New-StitchCsr and send the CSR to Stitch.", certificate.Subject);
        }

        if (nowUtc < notBefore)
        {
            throw new StitchMtlsException("CertificateNotYetValid", FailureCategory.InvalidData,
                $"The certificate '{certificate.Subject}' is not valid until {notBefore:yyyy-MM-dd HH:mm} UTC, " +
                $"and this machine's clock says {nowUtc:yyyy-MM-dd HH:mm} UTC. If the clock is wrong, correct it " +
                "(time zone and NTP); otherwise wait until the certificate becomes valid.", certificate.Subject);
        }
    }
}
