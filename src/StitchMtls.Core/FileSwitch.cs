using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;

namespace StitchMtls;

/// <summary>
/// Renames files within their folders as one step: if any rename fails, those already done are undone in
/// reverse order, so the folder is as it was. Renames in one folder are atomic on every file system the module
/// supports, so a reader sees the old file or the new one, never a half-written one.
/// </summary>
public sealed class FileSwitch
{
    private readonly List<(string From, string To)> _moves = new();
    private readonly List<string> _discarded = new();

    /// <summary>Renames <paramref name="from"/> to <paramref name="to"/>, which must not exist by then.</summary>
    public void Move(string from, string to) => _moves.Add((from, to));

    /// <summary>
    /// Moves an existing <paramref name="path"/> out of the way first and deletes it, its bytes overwritten,
    /// once every rename has succeeded.
    /// </summary>
    public void Discard(string path)
    {
        if (File.Exists(path))
        {
            string parked = Park(path, "discarded");
            _moves.Add((path, parked));
            _discarded.Add(parked);
        }
    }

    /// <summary>A hidden name beside <paramref name="path"/> for a file on its way elsewhere.</summary>
    public static string Park(string path, string purpose)
    {
        string folder = Path.GetDirectoryName(path) ?? ".";
        string random = Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        return Path.Combine(folder, $".{Path.GetFileName(path)}.{purpose}-{random}");
    }

    /// <exception cref="StitchMtlsException"><c>FileSwitchFailed</c>; nothing was changed.</exception>
    public void Commit()
    {
        var done = new Stack<(string From, string To)>();
        try
        {
            foreach ((string from, string to) in _moves)
            {
                File.Move(from, to, overwrite: false);
                done.Push((from, to));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            while (done.Count > 0)
            {
                (string from, string to) = done.Pop();
                try
                {
                    File.Move(to, from, overwrite: false);
                }
                catch (Exception undo) when (undo is IOException or UnauthorizedAccessException)
                {
                    // The file stays under its new name beside the original, so nothing is lost.
                }
            }

            throw new StitchMtlsException("FileSwitchFailed", FailureCategory.WriteError,
                $"Could not switch the files; nothing was changed. {ex.Message}", null, ex);
        }

        foreach (string parked in _discarded)
        {
            try
            {
                SecureDelete.Overwrite(parked);
                File.Delete(parked);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The switch has happened; a leftover hidden file is not worth failing it for.
            }
        }
    }
}
