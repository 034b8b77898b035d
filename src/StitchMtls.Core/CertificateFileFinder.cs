using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace StitchMtls;

/// <summary>
/// Finds certificate files under a folder and its subfolders, one at a time, so a scan of thousands of files
/// holds one file in memory, never the whole list.
/// </summary>
public static class CertificateFileFinder
{
    /// <summary>The extensions read in a folder; keys (.key), CSRs (.csr) and PKCS#12 files are never opened.</summary>
    public static readonly IReadOnlyList<string> Extensions = new[] { ".pem", ".crt", ".cer", ".der", ".cert" };

    private static readonly EnumerationOptions s_oneLevel = new()
    {
        RecurseSubdirectories = false,
        IgnoreInaccessible = false,
        // Hidden entries include FileSet's temporary files; links to folders could make the walk loop.
        AttributesToSkip = FileAttributes.Hidden | FileAttributes.System | FileAttributes.ReparsePoint,
    };

    public static bool HasCertificateExtension(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The certificate files in <paramref name="folder"/> and below: each folder's files in name order, then its
    /// subfolders in name order. A folder that cannot be listed is reported to <paramref name="onUnreadable"/>
    /// and passed over.
    /// </summary>
    public static IEnumerable<string> Enumerate(string folder, bool recurse, Action<string, Exception> onUnreadable)
    {
        var pending = new Stack<string>();
        pending.Push(folder);
        while (pending.Count > 0)
        {
            string current = pending.Pop();
            List<string> files;
            List<string> subfolders;
            try
            {
                files = Directory.EnumerateFiles(current, "*", s_oneLevel)
                    .Where(HasCertificateExtension)
                    .OrderBy(file => file, StringComparer.Ordinal)
                    .ToList();
                subfolders = recurse
                    ? Directory.EnumerateDirectories(current, "*", s_oneLevel)
                        .OrderByDescending(sub => sub, StringComparer.Ordinal)
                        .ToList()
                    : new List<string>();
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                onUnreadable(current, ex);
                continue;
            }

            foreach (string file in files)
            {
                yield return file;
            }

            foreach (string subfolder in subfolders)
            {
                pending.Push(subfolder);
            }
        }
    }
}
