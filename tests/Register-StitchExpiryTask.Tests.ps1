BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
}

Describe 'Register-StitchExpiryTask' {
    It 'prints the cron line and systemd units to use outside Windows' {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'Windows registers a scheduled task instead (tested below)'
            return
        }
        $folder = Join-Path $TestDrive 'certs'
        $task = Register-StitchExpiryTask -Path $folder, 'Cert:\CurrentUser\My' -At '06:30' -ReminderDays 30, 7 `
            -InformationVariable printed -InformationAction SilentlyContinue

        $task.Registered | Should -BeFalse
        $task.Command | Should -Be ("Import-Module '$ModuleManifest'; Get-StitchCertExpiry -LiteralPath " +
            "'$folder','Cert:\CurrentUser\My' -ReminderDays 7,30 -FailOnReminder")
        $task.CronLine | Should -BeLike '30 6 * * * *-NoProfile -NonInteractive -Command "*-FailOnReminder"'
        $task.SystemdTimer | Should -BeLike '*OnCalendar=`*-`*-`* 06:30:00*'
        $task.SystemdService | Should -BeLike '*Type=oneshot*ExecStart=*-FailOnReminder*'
        "$printed" | Should -BeLike "*$($task.CronLine)*"
    }

    It 'leaves -EventLog out of the command outside Windows, with a warning' {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'Windows has the event log, so the task keeps -EventLog'
            return
        }
        $task = Register-StitchExpiryTask -Path (Join-Path $TestDrive 'certs') -EventLog `
            -InformationAction SilentlyContinue -WarningVariable warnings -WarningAction SilentlyContinue

        $task.Command | Should -Not -BeLike '*-EventLog*'
        $task.CronLine | Should -Not -BeLike '*-EventLog*'
        @($warnings) | Should -HaveCount 1
        "$warnings" | Should -BeLike '-EventLog is left out*only on Windows*'
    }

    It 'gives a command that exits non-zero when a certificate is at a reminder, and 0 when all are Ok' {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'Windows registers the task instead of returning the command unregistered'
            return
        }
        $due = Join-Path $TestDrive 'due'
        $ok = Join-Path $TestDrive 'ok'
        New-TestClientCertificate -Pki $pki -CommonName 'stitch-due.example.com' -OutDir $due -ExpiresInDays 10 |
            Out-Null
        New-TestClientCertificate -Pki $pki -CommonName 'stitch-ok.example.com' -OutDir $ok -ExpiresInDays 200 |
            Out-Null
        foreach ($case in @(@{ Folder = $ok; ExitCode = 0 }, @{ Folder = $due; ExitCode = 1 })) {
            $task = Register-StitchExpiryTask -Path $case.Folder -InformationAction SilentlyContinue
            $script = Join-Path $TestDrive "task-$($case.ExitCode).ps1"
            Set-Content -LiteralPath $script -Value $task.Command
            (Invoke-TestPwsh -File $script).ExitCode | Should -Be $case.ExitCode
        }
    }

    It 'registers a daily scheduled task under the given account (Windows)' {
        if (-not $IsWindows) {
            Set-ItResult -Skipped -Because 'scheduled tasks exist only on Windows'
            return
        }
        $name = "StitchMtls test $([guid]::NewGuid())"
        try {
            $task = Register-StitchExpiryTask -Path $TestDrive -TaskName $name -User 'NT AUTHORITY\SYSTEM' `
                -ErrorAction Stop
            $task.Registered | Should -BeTrue
            $registered = Get-ScheduledTask -TaskName $name
            $registered.Actions[0].Arguments | Should -BeLike '*-FailOnReminder*'
            $registered.Principal.UserId | Should -Be 'SYSTEM'
        }
        catch [System.Management.Automation.ActionPreferenceStopException] {
            Set-ItResult -Skipped -Because 'registering a task for SYSTEM needs an elevated session'
        }
        finally {
            Unregister-ScheduledTask -TaskName $name -Confirm:$false -ErrorAction SilentlyContinue
        }
    }
}
