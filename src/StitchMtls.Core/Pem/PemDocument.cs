using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;

namespace StitchMtls.Pem;

/// <summary>One decoded PEM block: its label (RFC 7468) and the DER bytes it carried.</summary>
internal sealed record PemBlock(string Label, byte[] Data);

/// <summary>
/// Reads the PEM blocks of a file the way people actually deliver them: LF or CRLF, with or without a UTF-8
/// byte order mark, with explanatory text before, between and after the blocks (RFC 7468 section 5.2).
/// </summary>
internal static class PemDocument
{
    private static readonly byte[] s_utf8Bom = { 0xEF, 0xBB, 0xBF };

    public static bool LooksLikePem(byte[] content)
    {
        byte[] text = FromUtf16(content);
        return Encoding.ASCII.GetString(text, 0, Math.Min(text.Length, 64 * 1024)).Contains("-----BEGIN ",
            StringComparison.Ordinal);
    }

    /// <summary>
    /// UTF-16 text as single bytes: Windows PowerShell 5.1's '>' and Out-File write PEM files as UTF-16 with a
    /// byte order mark, and PEM is ASCII, so nothing is lost.
    /// </summary>
    private static byte[] FromUtf16(byte[] content)
    {
        bool littleEndian = content.Length >= 2 && content[0] == 0xFF && content[1] == 0xFE;
        bool bigEndian = content.Length >= 2 && content[0] == 0xFE && content[1] == 0xFF;
        if (!littleEndian && !bigEndian)
        {
            return content;
        }

        Encoding encoding = littleEndian ? Encoding.Unicode : Encoding.BigEndianUnicode;
        return Encoding.Latin1.GetBytes(encoding.GetString(content, 2, content.Length - 2));
    }

    /// <summary>True for RFC 1421 style headers that OpenSSL's traditional key encryption writes.</summary>
    public static bool HasLegacyEncryptionHeader(byte[] content)
    {
        return Encoding.Latin1.GetString(content).Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal);
    }

    public static IReadOnlyList<PemBlock> ReadBlocks(byte[] content)
    {
        ReadOnlySpan<byte> bytes = FromUtf16(content);
        if (bytes.StartsWith(s_utf8Bom))
        {
            bytes = bytes.Slice(s_utf8Bom.Length);
        }

        // Latin-1 maps every byte to one char, so stray non-UTF-8 text around the blocks cannot break decoding.
        // Files without a final newline, concatenated, glue one block's end to the next one's start; RFC 7468
        // wants a line break there, so one is put back.
        string text = Encoding.Latin1.GetString(bytes)
            .Replace("----------BEGIN ", "-----\n-----BEGIN ", StringComparison.Ordinal);
        var blocks = new List<PemBlock>();
        ReadOnlySpan<char> remaining = text;
        while (PemEncoding.TryFind(remaining, out PemFields fields))
        {
            string label = remaining[fields.Label].ToString();
            byte[] data = Convert.FromBase64String(remaining[fields.Base64Data].ToString());
            blocks.Add(new PemBlock(label, data));
            remaining = remaining.Slice(fields.Location.End.GetOffset(remaining.Length));
        }

        return blocks;
    }

    public static string Write(string label, ReadOnlySpan<byte> data)
    {
        return new string(PemEncoding.Write(label, data)) + "\n";
    }
}
