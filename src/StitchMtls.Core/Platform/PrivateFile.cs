using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Security.AccessControl;
using System.Security.Principal;

namespace StitchMtls.Platform;

/// <summary>
/// Creates files that only the current user can read, from their first byte: a private key must never be
/// readable by others, not even for the moment between creating a file and tightening its permissions.
/// </summary>
/// <remarks>
/// This is one of the two places where the platform matters (the other is <see cref="TlsPlatform"/>), so that
/// a net472 build for Windows PowerShell 5.1 changes these files only.
/// </remarks>
internal static class PrivateFile
{
    public static FileStream CreateNew(string path)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return CreateWithOwnerOnlyAcl(path);
        }

        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        return new FileStream(path, options);
    }

    /// <summary>
    /// Creates a folder for private files: owner-only (0700) on Unix; on Windows a folder under the user's (or
    /// the machine's) application data, which inherits that folder's restricted access.
    /// </summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static FileStream CreateWithOwnerOnlyAcl(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException();
        }

        using WindowsIdentity identity = WindowsIdentity.GetCurrent();
        SecurityIdentifier owner = identity.User!;
        var security = new FileSecurity();
        security.SetOwner(owner);
        security.SetAccessRuleProtection(isProtected: true, preserveInheritance: false);
        security.AddAccessRule(new FileSystemAccessRule(owner, FileSystemRights.FullControl, AccessControlType.Allow));
        return new FileInfo(path).Create(FileMode.CreateNew, FileSystemRights.Write | FileSystemRights.ReadData,
            FileShare.None, 4096, FileOptions.None, security);
    }
}
