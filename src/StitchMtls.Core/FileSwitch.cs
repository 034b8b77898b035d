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

    /// <summary>
    /// Does every rename, then runs <paramref name="verify"/> on the result; if a rename fails or
    /// <paramref name="verify"/> throws, the renames are undone and nothing is changed.
    /// </summary>
    /// <exception cref="StitchMtlsException">
    /// <c>FileSwitchFailed</c>, or what <paramref name="verify"/> throws; either way nothing was changed.
    /// </exception>
    public void Commit(Action? verify = null)
    {
        var done = new Stack<(string From, string To)>();
        try
        {
            foreach ((string from, string to) in _moves)
            {
                bool targetExisted = File.Exists(to);
                try
                {
                    File.Move(from, to, overwrite: false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    RemovePartialCopy(from, to, targetExisted);
                    throw;
                }

                done.Push((from, to));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Revert(done);
            throw new StitchMtlsException("FileSwitchFailed", FailureCategory.WriteError,
                $"Could not switch the files; nothing was changed. {ex.Message}", null, ex);
        }

        try
        {
            verify?.Invoke();
        }
        catch
        {
            Revert(done);
            throw;
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

    private static void Revert(Stack<(string From, string To)> done)
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
    }

    /// <summary>
    /// A rename the file system refuses makes .NET fall back to copy-then-delete; when the delete fails too (an
    /// immutable file), the copy is left at <paramref name="to"/>. The original is still in place, so the copy
    /// is removed, or the switch would leave a stray duplicate of a key behind.
    /// </summary>
    private static void RemovePartialCopy(string from, string to, bool targetExisted)
    {
        if (targetExisted || !File.Exists(from) || !File.Exists(to))
        {
            return;
        }

        try
        {
            // Not overwritten first: it may be a second hard link to the original, whose bytes must stay.
            File.Delete(to);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left as it is; the error that follows names the failed rename.
        }
    }
}
