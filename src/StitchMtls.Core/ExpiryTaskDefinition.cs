using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security;
using System.Text;

namespace StitchMtls;

/// <summary>
/// The daily unattended expiry check: one pwsh command line, and the ways to schedule it (a Windows scheduled
/// task definition, a cron line, a systemd service and timer).
/// </summary>
public sealed class ExpiryTaskDefinition
{
    public const string DefaultTaskName = "StitchMtls certificate expiry";

    public required string TaskName { get; init; }

    /// <summary>The files, folders and <c>Cert:\</c> locations to check.</summary>
    public required IReadOnlyList<string> Paths { get; init; }

    /// <summary>The local time of day the check runs.</summary>
    public required TimeSpan At { get; init; }

    public required string PowerShellPath { get; init; }

    /// <summary>The module manifest to import, so the task runs the StitchMtls that registered it.</summary>
    public required string ModulePath { get; init; }

    public IReadOnlyList<int>? ReminderDays { get; init; }

    public bool EventLog { get; init; }

    /// <summary>The account the task runs as; null for the defaults of each scheduler.</summary>
    public string? User { get; init; }

    /// <summary>The PowerShell command the task runs: a failing check ends it with exit code 1.</summary>
    public string Command
    {
        get
        {
            var command = new StringBuilder();
            command.Append($"Import-Module {Quote(ModulePath)}; ");
            command.Append("Get-StitchCertExpiry -LiteralPath ");
            command.Append(string.Join(",", Paths.Select(Quote)));
            if (ReminderDays is { Count: > 0 })
            {
                command.Append(" -ReminderDays ");
                IEnumerable<string> days = ReminderDays.Select(day => day.ToString(CultureInfo.InvariantCulture));
                command.Append(string.Join(",", days));
            }

            command.Append(" -FailOnReminder");
            if (EventLog)
            {
                command.Append(" -EventLog");
            }

            return command.ToString();
        }
    }

    /// <summary>The arguments after the pwsh executable, quoted for a Windows command line.</summary>
    public string Arguments => $"-NoProfile -NonInteractive -Command \"{Command.Replace("\"", "\\\"")}\"";

    /// <summary>A crontab line (crontab -e); cron treats % specially, so it is escaped.</summary>
    public string CronLine =>
        $"{At.Minutes} {At.Hours} * * * {PowerShellPath} -NoProfile -NonInteractive -Command " +
        $"\"{Command.Replace("\"", "\\\"").Replace("%", "\\%")}\"";

    public string SystemdService
    {
        get
        {
            var unit = new StringBuilder();
            unit.AppendLine("[Unit]");
            unit.AppendLine($"Description={TaskName}");
            unit.AppendLine();
            unit.AppendLine("[Service]");
            unit.AppendLine("Type=oneshot");
            if (User is not null)
            {
                unit.AppendLine($"User={User}");
            }

            // systemd expands % specifiers and $ variables in ExecStart; both are escaped.
            string command = Command.Replace("%", "%%").Replace("$", "$$").Replace("\"", "\\\"");
            unit.AppendLine($"ExecStart={PowerShellPath} -NoProfile -NonInteractive -Command \"{command}\"");
            return unit.ToString();
        }
    }

    public string SystemdTimer
    {
        get
        {
            var unit = new StringBuilder();
            unit.AppendLine("[Unit]");
            unit.AppendLine($"Description={TaskName}, daily");
            unit.AppendLine();
            unit.AppendLine("[Timer]");
            unit.AppendLine($"OnCalendar=*-*-* {At.Hours:00}:{At.Minutes:00}:00");
            unit.AppendLine("Persistent=true");
            unit.AppendLine();
            unit.AppendLine("[Install]");
            unit.AppendLine("WantedBy=timers.target");
            return unit.ToString();
        }
    }

    /// <summary>A Task Scheduler 1.2 definition: daily at <see cref="At"/>, no overlapping runs, 1 h limit.</summary>
    public string ToTaskXml(DateTime today)
    {
        string start = today.Date.Add(At).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return $"""
            <?xml version="1.0" encoding="UTF-16"?>
            <Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
              <RegistrationInfo>
                <Description>{SecurityElement.Escape(TaskName)}: Get-StitchCertExpiry -FailOnReminder.
                The last run result is 1 when a certificate needs renewing.</Description>
              </RegistrationInfo>
              <Triggers>
                <CalendarTrigger>
                  <StartBoundary>{start}</StartBoundary>
                  <ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay>
                </CalendarTrigger>
              </Triggers>
              <Settings>
                <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
                <StartWhenAvailable>true</StartWhenAvailable>
                <ExecutionTimeLimit>PT1H</ExecutionTimeLimit>
              </Settings>
              <Actions>
                <Exec>
                  <Command>{SecurityElement.Escape(PowerShellPath)}</Command>
                  <Arguments>{SecurityElement.Escape(Arguments)}</Arguments>
                </Exec>
              </Actions>
            </Task>
            """;
    }

    private static string Quote(string value) => "'" + value.Replace("'", "''") + "'";
}

/// <summary>What Register-StitchExpiryTask registered, or, outside Windows, what to register instead.</summary>
public sealed class StitchExpiryTask
{
    public required string TaskName { get; init; }

    /// <summary>True when a Windows scheduled task was registered.</summary>
    public required bool Registered { get; init; }

    public string? User { get; init; }

    public required TimeSpan At { get; init; }

    public required string Command { get; init; }

    public required string CronLine { get; init; }

    public required string SystemdService { get; init; }

    public required string SystemdTimer { get; init; }
}
