using System;
using System.Runtime.InteropServices;

namespace StitchMtls.Platform;

/// <summary>
/// Registers a task with the Windows Task Scheduler through its COM API (Schedule.Service), so an account's
/// password goes to the scheduler directly and never appears on a command line.
/// </summary>
public static class ScheduledTaskRegistration
{
    private const int TaskCreate = 2;
    private const int TaskCreateOrUpdate = 6;
    private const int LogonPassword = 1;
    private const int LogonS4U = 2;
    private const int LogonServiceAccount = 5;
    private const int AlreadyExists = unchecked((int)0x800700B7);

    public static bool IsSupported => OperatingSystem.IsWindows();

    /// <exception cref="StitchMtlsException">
    /// <c>PlatformNotSupported</c>, <c>TaskExists</c> or <c>TaskRegistrationFailed</c>.
    /// </exception>
    public static void Register(ExpiryTaskDefinition definition, string? password, bool replace)
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new StitchMtlsException("PlatformNotSupported", FailureCategory.NotImplemented,
                "Scheduled tasks exist only on Windows; use the cron line or systemd timer instead.", null);
        }

        string user = definition.User ?? "NT AUTHORITY\\SYSTEM";
        int logonType = password is not null ? LogonPassword
            : IsServiceAccount(user) ? LogonServiceAccount
            : user.EndsWith('$') ? LogonPassword
            : LogonS4U;
        try
        {
            Type serviceType = Type.GetTypeFromProgID("Schedule.Service", throwOnError: true)!;
            dynamic service = Activator.CreateInstance(serviceType)!;
            service.Connect();
            dynamic folder = service.GetFolder("\\");
            folder.RegisterTask(definition.TaskName, definition.ToTaskXml(DateTime.Now),
                replace ? TaskCreateOrUpdate : TaskCreate, user, password, logonType, null);
        }
        catch (COMException ex) when (ex.HResult == AlreadyExists)
        {
            throw new StitchMtlsException("TaskExists", FailureCategory.ResourceExists,
                $"A scheduled task '{definition.TaskName}' already exists. Use -Force to replace it, or another " +
                "-TaskName.", definition.TaskName, ex);
        }
        catch (Exception ex) when (ex is COMException or UnauthorizedAccessException)
        {
            throw new StitchMtlsException("TaskRegistrationFailed", FailureCategory.PermissionDenied,
                $"Could not register the scheduled task '{definition.TaskName}' for '{user}': {ex.Message} " +
                "Registering a task for another account needs an elevated session.", definition.TaskName, ex);
        }
    }

    private static bool IsServiceAccount(string user) =>
        user.Equals("SYSTEM", StringComparison.OrdinalIgnoreCase)
        || user.StartsWith("NT AUTHORITY\\", StringComparison.OrdinalIgnoreCase);
}
