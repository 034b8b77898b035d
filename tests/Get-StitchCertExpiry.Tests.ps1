BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $certificates = Join-Path $TestDrive 'certificates'
    $cases = @(
        @{ Name = 'plus61'; ExpiresInDays = 61 }, @{ Name = 'plus60'; ExpiresInDays = 60 }
        @{ Name = 'plus30'; ExpiresInDays = 30 }, @{ Name = 'plus14'; ExpiresInDays = 14 }
        @{ Name = 'plus7'; ExpiresInDays = 7 }, @{ Name = 'plus1'; ExpiresInDays = 1 }
        @{ Name = 'minus1'; ExpiresInDays = -1 }
    )
    foreach ($case in $cases) {
        New-TestClientCertificate -Pki $pki -CommonName "stitch-$($case.Name).example.com" -OutDir $certificates `
            -Name $case.Name -ExpiresInDays $case.ExpiresInDays | Out-Null
    }
    New-TestClientCertificate -Pki $pki -CommonName 'stitch-future.example.com' -OutDir $certificates -Name 'future' `
        -ValidFromDays 2 | Out-Null
    # Only the chain files are scanned in these tests; the leaf-only copies and keys go elsewhere.
    $chains = Join-Path $TestDrive 'chains'
    New-Item -ItemType Directory -Path $chains | Out-Null
    Get-ChildItem -LiteralPath $certificates -Filter '*-chain.pem' | Copy-Item -Destination $chains
}

Describe 'Get-StitchCertExpiry' {
    It 'reports <Name> as <Status> with <Days> days remaining' -TestCases @(
        @{ Name = 'plus61'; Status = 'Ok'; Days = 61 }
        @{ Name = 'plus60'; Status = 'Reminder60'; Days = 60 }
        @{ Name = 'plus30'; Status = 'Reminder30'; Days = 30 }
        @{ Name = 'plus14'; Status = 'Reminder14'; Days = 14 }
        @{ Name = 'plus7'; Status = 'Reminder7'; Days = 7 }
        @{ Name = 'plus1'; Status = 'Reminder7'; Days = 1 }
        @{ Name = 'minus1'; Status = 'Expired'; Days = -1 }
        @{ Name = 'future'; Status = 'NotYetValid'; Days = 367 }
    ) {
        $result = Get-StitchCertExpiry -Path (Join-Path $chains "$Name-chain.pem") -WarningAction SilentlyContinue

        $result.Status | Should -Be $Status
        $result.DaysRemaining | Should -Be $Days
        $result.CommonName | Should -Be "stitch-$Name.example.com"
    }

    It 'reads a folder, warns once per certificate at or past a reminder, and skips non-certificates' {
        Set-Content -LiteralPath (Join-Path $chains 'notes.pem') -Value 'not a certificate'
        try {
            $results = Get-StitchCertExpiry -Path $chains -WarningVariable warnings -WarningAction SilentlyContinue

            $results | Should -HaveCount 8
            ($results | Where-Object Status -eq 'Ok').CommonName | Should -Be 'stitch-plus61.example.com'
            @($warnings | Where-Object { $_ -like "Skipped*notes.pem*" }) | Should -HaveCount 1
            @($warnings | Where-Object { $_ -like 'The certificate*' }) | Should -HaveCount 7
        }
        finally {
            Remove-Item -LiteralPath (Join-Path $chains 'notes.pem')
        }
    }

    It 'takes wildcards and certificates from the pipeline' {
        $byWildcard = Get-StitchCertExpiry -Path (Join-Path $chains 'plus*-chain.pem') -WarningAction SilentlyContinue
        $byWildcard | Should -HaveCount 6

        $certificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem(
            (Get-Content -LiteralPath (Join-Path $certificates 'plus14.pem') -Raw))
        ($certificate | Get-StitchCertExpiry -WarningAction SilentlyContinue).Status | Should -Be 'Reminder14'
    }

    It 'honours -ReminderDays' {
        $result = Get-StitchCertExpiry -Path (Join-Path $chains 'plus61-chain.pem') -ReminderDays 90, 10 `
            -WarningAction SilentlyContinue
        $result.Status | Should -Be 'Reminder90'
        $result.NextReminder.Date | Should -Be $result.NotAfter.AddDays(-10).Date
    }

    It 'rejects reminder days outside 1 to 3650' {
        { Get-StitchCertExpiry -Path $chains -ReminderDays 0 } |
            Should -Throw -ErrorId 'ReminderDaysInvalid,StitchMtls.Commands.GetStitchCertExpiryCommand'
    }

    It 'reports a named file that holds no certificate as an error and goes on' {
        $junk = Join-Path $TestDrive 'junk.txt'
        Set-Content -LiteralPath $junk -Value 'hello'
        $results = Get-StitchCertExpiry -Path $junk, (Join-Path $chains 'plus61-chain.pem') -ErrorVariable errors `
            -ErrorAction SilentlyContinue
        $results | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId |
            Should -Be 'CertificateFileInvalid,StitchMtls.Commands.GetStitchCertExpiryCommand'
    }
}

Describe 'Get-StitchMtlsEndpoint' {
    It 'lists the documented mTLS hosts with their standard equivalents and fixed address' {
        $endpoints = Get-StitchMtlsEndpoint
        $endpoints.Name | Should -Be 'Secure', 'Api'
        $endpoints.MtlsUri.Host | Should -Be 'secure.mtls.stitch.money', 'api.mtls.stitch.money'
        $endpoints.StandardUri.Host | Should -Be 'secure.stitch.money', 'api.stitch.money'
        $endpoints.IPAddress | Should -Be '20.87.105.80', '20.87.105.80'
        (Get-StitchMtlsEndpoint -Name api).Name | Should -Be 'Api'
    }
}

Describe 'The module' {
    It 'exports the nine cmdlets, each with its help page in docs/en-US' {
        $commands = (Get-Command -Module StitchMtls).Name | Sort-Object
        $commands | Should -Be @('Export-StitchCertificate', 'Get-StitchAccessToken', 'Get-StitchCertExpiry',
            'Get-StitchMtlsEndpoint', 'Grant-StitchKeyAccess', 'Import-StitchChain', 'Invoke-StitchApi',
            'New-StitchCsr', 'Test-StitchMtls')
        foreach ($command in $commands) {
            Join-Path $PSScriptRoot "../docs/en-US/$command.md" | Should -Exist
        }
    }

    It 'refuses Windows PowerShell 5.1 with a message that names the version it needs' {
        if (-not $IsWindows) {
            Set-ItResult -Skipped -Because 'Windows PowerShell 5.1 (powershell.exe) exists only on Windows'
            return
        }
        $output = & powershell.exe -NoProfile -NonInteractive -Command "Import-Module '$ModuleManifest'" 2>&1 |
            Out-String
        $output | Should -BeLike '*7.4*'
    }

    It 'answers Get-Help for <_> with a synopsis, examples and every parameter described' -ForEach @(
        'New-StitchCsr', 'Import-StitchChain', 'Test-StitchMtls', 'Get-StitchCertExpiry', 'Get-StitchMtlsEndpoint',
        'Grant-StitchKeyAccess', 'Export-StitchCertificate', 'Get-StitchAccessToken', 'Invoke-StitchApi'
    ) {
        $help = Get-Help $_ -Full

        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "$_ *[[]*"
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
        foreach ($parameter in $help.parameters.parameter) {
            ($parameter.description.Text -join '') |
                Should -Not -BeNullOrEmpty -Because "-$($parameter.name) needs a description"
        }
    }

    It 'supports -WhatIf on every cmdlet that writes' {
        (Get-Command New-StitchCsr).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Import-StitchChain).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Grant-StitchKeyAccess).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Export-StitchCertificate).Parameters.Keys | Should -Contain 'WhatIf'
    }
}
