using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using StitchMtls.Platform;

namespace StitchMtls;

/// <summary>
/// Writes a group of files so that they appear whole or not at all: each is written to a temporary file in
/// its destination folder, flushed to disk, and only then renamed into place. Existing files are replaced only
/// when overwriting was asked for, and are restored if any later step fails.
/// </summary>
public sealed class FileSet
{
    private readonly List<PendingFile> _files = new();

    public void AddPrivate(string path, byte[] content) => _files.Add(new PendingFile(Path.GetFullPath(path),
        content, IsPrivate: true));

    public void AddPublic(string path, byte[] content) => _files.Add(new PendingFile(Path.GetFullPath(path),
        content, IsPrivate: false));

    public IEnumerable<string> Paths
    {
        get
        {
            foreach (PendingFile file in _files)
            {
                yield return file.Path;
            }
        }
    }

    /// <summary>Throws <c>FileExists</c> naming the first destination that exists, unless overwriting.</summary>
    public static void EnsureWritable(IEnumerable<string> paths, bool overwrite)
    {
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                throw new StitchMtlsException("DestinationIsFolder", FailureCategory.InvalidArgument,
                    $"Cannot write '{path}' because a folder with that name exists.", path);
            }

            if (!overwrite && File.Exists(path))
            {
                throw new StitchMtlsException("FileExists", FailureCategory.ResourceExists,
                    $"The file '{path}' already exists. Nothing was written; use -Force to replace it, or write " +
                    "to another file name or folder.", path);
            }

            string? folder = Path.GetDirectoryName(path);
            if (folder is not null && !Directory.Exists(folder))
            {
                throw new StitchMtlsException("FolderNotFound", FailureCategory.ObjectNotFound,
                    $"Cannot write '{path}' because the folder '{folder}' does not exist. Create the folder first " +
                    "(New-Item -ItemType Directory), or give a folder that exists; nothing was written.", folder);
            }
        }
    }

    public void Commit(bool overwrite)
    {
        EnsureWritable(Paths, overwrite);

        var staged = new List<(PendingFile File, string TempPath)>();
        var replaced = new List<(string Path, string BackupPath)>();
        var placed = new List<string>();
        try
        {
            foreach (PendingFile file in _files)
            {
                // Recorded before writing, so a write that fails half way is cleaned up too.
                string tempPath = TemporaryName(file.Path, "new");
                staged.Add((file, tempPath));
                WriteTemporary(file, tempPath);
            }

            foreach ((PendingFile file, string tempPath) in staged)
            {
                if (File.Exists(file.Path))
                {
                    string backup = TemporaryName(file.Path, "previous");
                    File.Move(file.Path, backup);
                    replaced.Add((file.Path, backup));
                }

                File.Move(tempPath, file.Path, overwrite: false);
                placed.Add(file.Path);
            }
        }
        catch (Exception ex)
        {
            // Any failure (a full disk, a file size limit, permissions) must leave the folder as it was.
            RollBack(staged, placed, replaced);
            throw new StitchMtlsException("FileWriteFailed", FailureCategory.WriteError,
                $"Could not write the files; nothing was changed. {ex.Message}", null, ex);
        }

        foreach ((_, string backup) in replaced)
        {
            // A replaced symbolic link is removed as a link; its target is someone else's file.
            DeleteQuietly(backup, scrub: !IsSymbolicLink(backup));
        }
    }

    private static void WriteTemporary(PendingFile file, string tempPath)
    {
        using (FileStream stream = file.IsPrivate
            ? PrivateFile.CreateNew(tempPath)
            : new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(file.Content);
            stream.Flush(flushToDisk: true);
        }
    }

    private static bool IsSymbolicLink(string path) => new FileInfo(path).LinkTarget is not null;

    private static void RollBack(List<(PendingFile File, string TempPath)> staged, List<string> placed,
        List<(string Path, string BackupPath)> replaced)
    {
        foreach (string path in placed)
        {
            DeleteQuietly(path, scrub: true);
        }

        foreach ((string path, string backup) in replaced)
        {
            try
            {
                File.Move(backup, path, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The backup stays beside the destination under its temporary name, so nothing is lost.
            }
        }

        foreach ((_, string tempPath) in staged)
        {
            DeleteQuietly(tempPath, scrub: true);
        }
    }

    private static string TemporaryName(string path, string purpose)
    {
        string folder = Path.GetDirectoryName(path) ?? ".";
        string random = Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        return Path.Combine(folder, $".{Path.GetFileName(path)}.{purpose}-{random}");
    }

    private static void DeleteQuietly(string path, bool scrub)
    {
        if (scrub)
        {
            try
            {
                SecureDelete.Overwrite(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Deleting still matters more than scrubbing; go on.
            }
        }

        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Reported nowhere on purpose: the original failure is the one the user must see.
        }
    }

    private sealed record PendingFile(string Path, byte[] Content, bool IsPrivate);
}

/// <summary>Overwrites a file's bytes before deletion, where the file system keeps them in place.</summary>
internal static class SecureDelete
{
    public static void Overwrite(string path)
    {
        if (!File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            return;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None);
        var zeros = new byte[Math.Min(stream.Length, 64 * 1024)];
        long remaining = stream.Length;
        while (remaining > 0)
        {
            int count = (int)Math.Min(zeros.Length, remaining);
            stream.Write(zeros, 0, count);
            remaining -= count;
        }

        stream.Flush(flushToDisk: true);
    }
}
