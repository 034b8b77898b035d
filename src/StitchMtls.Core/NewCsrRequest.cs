using System;
using System.IO;

namespace StitchMtls;

/// <summary>What New-StitchCsr was asked to make: the subject, key size and where the two files go.</summary>
public sealed class NewCsrRequest
{
    public const int DefaultKeySize = 4096;

    public const string DefaultName = "stitch-mtls";

    public NewCsrRequest(CsrSubject subject, int keySize, string folder, string name)
    {
        if (keySize is not (2048 or 3072 or 4096))
        {
            throw new StitchMtlsException("KeySizeInvalid", FailureCategory.InvalidArgument,
                $"The key size {keySize} is not supported. Use 4096 (Stitch's documented size), 3072 or 2048.",
                keySize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
            || name.Contains('/') || name.Contains('\\'))
        {
            throw new StitchMtlsException("NameInvalid", FailureCategory.InvalidArgument,
                $"The name '{name}' cannot be used as a file name. Use letters, digits, '-' or '_', for example " +
                $"'{DefaultName}'.", name);
        }

        Subject = subject;
        KeySize = keySize;
        Folder = Path.GetFullPath(folder);
        Name = name;
    }

    public CsrSubject Subject { get; }

    /// <summary>
    /// When set, the CSR carries exactly these subject bytes instead of <see cref="Subject"/>'s encoding: a
    /// renewal repeats the current certificate's subject, whose CN identifies the client at Stitch's gateway.
    /// </summary>
    public System.Security.Cryptography.X509Certificates.X500DistinguishedName? ExactSubject { get; init; }

    public int KeySize { get; }

    public string Folder { get; }

    public string Name { get; }

    public string KeyPath => Path.Combine(Folder, Name + ".key");

    public string CsrPath => Path.Combine(Folder, Name + ".csr");
}
