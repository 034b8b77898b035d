using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Runtime.InteropServices;
using StitchMtls.Platform;

namespace StitchMtls.Commands;

/// <summary>
/// Schedules the daily expiry check with -FailOnReminder: a Windows scheduled task, or elsewhere the cron line
/// and systemd units to install.
/// </summary>
[Cmdlet(VerbsLifecycle.Register, "StitchExpiryTask", SupportsShouldProcess = true,
    ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StitchExpiryTask))]
public sealed class RegisterStitchExpiryTaskCommand : StitchCmdlet
{
    /// <summary>The files, folders and Cert:\ locations the check reads.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string[] Path { get; set; } = null!;

    [Parameter]
    public string TaskName { get; set; } = ExpiryTaskDefinition.DefaultTaskName;

    /// <summary>The local time of day the check runs.</summary>
    [Parameter]
    public DateTime At { get; set; } = DateTime.Today.AddHours(7);

    /// <summary>The account the task runs as (default NT AUTHORITY\SYSTEM on Windows).</summary>
    [Parameter]
    public string? User { get; set; }

    /// <summary>An account with a password to run as; the password goes to the Task Scheduler only.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter]
    public int[]? ReminderDays { get; set; }

    /// <summary>Have the check also write to the Windows Application event log.</summary>
    [Parameter]
    public SwitchParameter EventLog { get; set; }

    /// <summary>Replace a task with the same name.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        // The event log exists only on Windows: carried into a cron line it would only warn there every day.
        bool eventLog = EventLog && ScheduledTaskRegistration.IsSupported;
        if (EventLog && !eventLog)
        {
            WriteWarning("-EventLog is left out of the command: the event log exists only on Windows. cron mails " +
                "the check's output and systemd keeps it in the journal instead.");
        }

        ExpiryTaskDefinition definition;
        try
        {
            if (User is not null && Credential is not null)
            {
                throw new StitchMtlsException("UserConflict", FailureCategory.InvalidArgument,
                    "-User and -Credential both name the account. Give one of them.", User);
            }

            definition = new ExpiryTaskDefinition
            {
                TaskName = TaskName,
                Paths = Path.Select(path => Store.CertificateStorePath.LooksLikeStorePath(path)
                    ? path
                    : ToFileSystemPath(path)).ToList(),
                At = At.TimeOfDay,
                PowerShellPath = PowerShellPath(),
                ModulePath = ModuleManifest(),
                ReminderDays = ReminderDays is null ? null : ExpiryCalculator.NormalizeReminderDays(ReminderDays),
                EventLog = eventLog,
                User = Credential?.UserName ?? User,
            };
        }
        catch (StitchMtlsException ex)
        {
            ThrowFailure(ex);
            return;
        }

        bool registered = false;
        if (ScheduledTaskRegistration.IsSupported)
        {
            string account = definition.User ?? @"NT AUTHORITY\SYSTEM";
            if (!ShouldProcess(definition.TaskName,
                $"Register a daily scheduled task at {At:HH:mm} running the expiry check as '{account}'"))
            {
                return;
            }

            try
            {
                ScheduledTaskRegistration.Register(definition, Credential?.GetNetworkCredential().Password, Force);
                registered = true;
            }
            catch (StitchMtlsException ex)
            {
                ThrowFailure(ex);
            }
        }
        else
        {
            string crontab = definition.User is null ? "crontab -e" : $"crontab -e -u {definition.User}";
            Print("Scheduled tasks exist only on Windows. On this system, schedule the check with cron " +
                $"({crontab}):");
            Print("    " + definition.CronLine);
            Print("or with a systemd timer: save the SystemdService and SystemdTimer properties of the output as " +
                "/etc/systemd/system/stitch-expiry.service and stitch-expiry.timer, then run " +
                "'systemctl enable --now stitch-expiry.timer'.");
        }

        WriteObject(new StitchExpiryTask
        {
            TaskName = definition.TaskName,
            Registered = registered,
            User = definition.User,
            At = definition.At,
            Command = definition.Command,
            CronLine = definition.CronLine,
            SystemdService = definition.SystemdService,
            SystemdTimer = definition.SystemdTimer,
        });
    }

    /// <summary>Text for the person at the console; the information stream keeps it in transcripts and jobs.</summary>
    private void Print(string text) =>
        WriteInformation(new HostInformationMessage { Message = text }, new[] { "PSHOST" });

    /// <summary>
    /// The manifest of the StitchMtls running now (the assembly sits in bin/net8.0 below it), so the task imports
    /// this very version; the module name when it cannot be found.
    /// </summary>
    private string ModuleManifest()
    {
        string? folder = System.IO.Path.GetDirectoryName(MyInvocation.MyCommand.Module?.Path);
        for (int level = 0; folder is not null && level < 3; level++)
        {
            string manifest = System.IO.Path.Combine(folder, "StitchMtls.psd1");
            if (File.Exists(manifest))
            {
                return manifest;
            }

            folder = System.IO.Path.GetDirectoryName(folder);
        }

        return "StitchMtls";
    }

    /// <summary>The pwsh executable of this session, for the task to run the same PowerShell.</summary>
    private string PowerShellPath()
    {
        string name = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "pwsh.exe" : "pwsh";
        string? home = SessionState.PSVariable.GetValue("PSHOME") as string;
        string candidate = home is null ? name : System.IO.Path.Combine(home, name);
        return File.Exists(candidate) ? candidate : name;
    }
}
