using System;
using System.IO;
using System.Text;
using StitchMtls.Platform;
using Xunit;

namespace StitchMtls.Tests;

public class FileSetTests
{
    [Fact]
    public void NeverReplacesAnExistingFileWithoutOverwrite()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("b.csr"), "old csr");
        var files = new FileSet();
        files.AddPrivate(folder.File("a.key"), Encoding.ASCII.GetBytes("new key"));
        files.AddPublic(folder.File("b.csr"), Encoding.ASCII.GetBytes("new csr"));

        var error = Assert.Throws<StitchMtlsException>(() => files.Commit(overwrite: false));

        Assert.Equal("FileExists", error.ErrorId);
        Assert.Contains(folder.File("b.csr"), error.Message);
        Assert.False(File.Exists(folder.File("a.key")));
        Assert.Equal("old csr", File.ReadAllText(folder.File("b.csr")));
        Assert.Single(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void ReplacesWithOverwriteAndLeavesNoTemporaryFiles()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("a.key"), "old key");
        var files = new FileSet();
        files.AddPrivate(folder.File("a.key"), Encoding.ASCII.GetBytes("new key"));

        files.Commit(overwrite: true);

        Assert.Equal("new key", File.ReadAllText(folder.File("a.key")));
        Assert.Single(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void CreatesPrivateFilesOwnerOnlyFromTheFirstByte()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // The Windows ACL is checked by the Pester suite on Windows.
        }

        using var folder = new TempFolder();
        using (FileStream stream = PrivateFile.CreateNew(folder.File("k")))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(folder.File("k")));
            stream.WriteByte(1);
        }
    }

    [Fact]
    public void RefusesAFolderThatDoesNotExist()
    {
        using var folder = new TempFolder();
        var files = new FileSet();
        files.AddPublic(Path.Combine(folder.Path, "missing", "x.csr"), new byte[] { 1 });

        Assert.Equal("FolderNotFound", Assert.Throws<StitchMtlsException>(() => files.Commit(false)).ErrorId);
    }

    [Fact]
    public void ReplacesASymbolicLinkWithoutTouchingItsTarget()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Creating symbolic links needs a privilege on Windows; the logic is the same.
        }

        using var folder = new TempFolder();
        string target = folder.File("2026.key");
        File.WriteAllText(target, "last year's key");
        File.CreateSymbolicLink(folder.File("current.key"), target);
        var files = new FileSet();
        files.AddPrivate(folder.File("current.key"), Encoding.ASCII.GetBytes("new key"));

        files.Commit(overwrite: true);

        Assert.Equal("last year's key", File.ReadAllText(target));
        Assert.Null(new FileInfo(folder.File("current.key")).LinkTarget);
        Assert.Equal("new key", File.ReadAllText(folder.File("current.key")));
        Assert.Equal(2, Directory.GetFiles(folder.Path).Length);
    }
}
