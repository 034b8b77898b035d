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

Describe 'Get-StitchCertExpiry with listings, special files and its default view' {
    BeforeAll {
        $listing = Join-Path $TestDrive 'listing'
        New-Item -ItemType Directory -Path $listing | Out-Null
        Copy-Item -LiteralPath (Join-Path $chains 'plus61-chain.pem'), (Join-Path $chains 'plus7-chain.pem') `
            -Destination $listing
        Set-Content -LiteralPath (Join-Path $listing 'notes.pem') -Value 'not a certificate'
        Set-Content -LiteralPath (Join-Path $listing 'empty.crt') -Value '' -NoNewline
        Copy-Item -LiteralPath (Join-Path $certificates 'plus61.key') -Destination (Join-Path $listing 'client.key')
        $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile(
            (Join-Path $certificates 'plus61.pem'), (Join-Path $certificates 'plus61.key'))
        $protectedPfx = Join-Path $listing 'protected.pfx'
        [IO.File]::WriteAllBytes($protectedPfx, $leaf.Export('Pfx', 'pfx-password'))
        $leaf.Dispose()
    }

    It 'warns about and skips each non-certificate piped from Get-ChildItem, even under -ErrorAction Stop' {
        $results = Get-ChildItem -LiteralPath $listing -File |
            Get-StitchCertExpiry -ErrorAction Stop -WarningVariable warnings -WarningAction SilentlyContinue

        $results | Should -HaveCount 2
        $skipped = @($warnings | Where-Object { "$_" -like 'Skipped*' })
        $skipped | Should -HaveCount 4
        "$skipped" | Should -BeLike '*notes.pem*contains no certificate*'
        "$skipped" | Should -BeLike '*empty.crt*is empty*'
        "$skipped" | Should -BeLike "*client.key*only .pem*not opened*"
        "$skipped" | Should -BeLike "*protected.pfx*only .pem*not opened*"
    }

    It 'reads a folder piped from Get-Item like a named folder' {
        $results = Get-Item -LiteralPath $listing | Get-StitchCertExpiry -ErrorAction Stop `
            -WarningAction SilentlyContinue
        $results | Should -HaveCount 2
    }

    It 'reports a file named with -<Parameter> that is <Problem> as <ErrorId>' -TestCases @(
        @{ Parameter = 'LiteralPath'; File = 'notes.pem'; Problem = 'not a certificate'
            ErrorId = 'CertificateFileInvalid'; Message = '*contains no certificate*' }
        @{ Parameter = 'Path'; File = 'empty.crt'; Problem = 'empty'
            ErrorId = 'CertificateFileInvalid'; Message = '*is empty*not opened*' }
        @{ Parameter = 'LiteralPath'; File = 'protected.pfx'; Problem = 'a password-protected PKCS#12'
            ErrorId = 'CertificateFileInvalid'; Message = '*password-protected PKCS#12*Import-StitchChain -PfxPath*' }
    ) {
        $arguments = @{ $Parameter = Join-Path $listing $File }
        Get-StitchCertExpiry @arguments -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -Be "$ErrorId,StitchMtls.Commands.GetStitchCertExpiryCommand"
        $errors[0].Exception.Message | Should -BeLike $Message
    }

    It 'skips a named pipe in a folder with a warning instead of waiting on it forever' {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'named pipes live in the file system only on Unix'
            return
        }
        $pipes = Join-Path $TestDrive 'pipes'
        New-Item -ItemType Directory -Path $pipes | Out-Null
        Copy-Item -LiteralPath (Join-Path $chains 'plus61-chain.pem') -Destination $pipes
        & mkfifo (Join-Path $pipes 'pipe.pem')
        $LASTEXITCODE | Should -Be 0
        $script = Join-Path $TestDrive 'pipes.ps1'
        Set-Content -LiteralPath $script -Value @'
param([string] $Folder)
Import-Module $env:STITCH_MODULE_MANIFEST
$results = Get-StitchCertExpiry -Path $Folder -WarningVariable warnings -WarningAction SilentlyContinue
$named = $null
Get-StitchCertExpiry -LiteralPath (Join-Path $Folder 'pipe.pem') -ErrorVariable named -ErrorAction SilentlyContinue
[pscustomobject]@{
    Count = @($results).Count; Warning = "$warnings"; NamedError = $named[0].FullyQualifiedErrorId
} | ConvertTo-Json -Compress
'@
        # In a child process with a time limit: a regression would otherwise hang the whole test run.
        $run = Invoke-TestPwsh -File $script -ArgumentList '-Folder', $pipes -TimeoutSeconds 300
        $result = $run.Output | ConvertFrom-Json

        $result.Count | Should -Be 1
        $result.Warning | Should -BeLike "Skipped*pipe.pem*is empty, or is a pipe*not opened*"
        $result.NamedError | Should -Be 'CertificateFileInvalid,StitchMtls.Commands.GetStitchCertExpiryCommand'
    }

    It 'shows each row''s path in the default table, relative to the current folder' {
        Push-Location -LiteralPath $listing
        try {
            $table = Get-StitchCertExpiry -Path . -WarningAction SilentlyContinue | Out-String -Width 200
        }
        finally {
            Pop-Location
        }

        ($table -split "`n")[1] | Should -Match '\bPath\s*$'
        $table | Should -Match '(?m)\s+plus61-chain\.pem\s*$'
        $table | Should -Not -BeLike "*$listing*"
    }
}

Describe 'Get-StitchCertExpiry at scale and for schedulers' {
    BeforeAll {
        $bulk = Join-Path $TestDrive 'bulk'
        $expected = New-TestCertificateFolder -Path $bulk -Count 1000 -PerFolder 100
        # Junk beside the certificates: wrong content under certificate extensions, and files never opened.
        Set-Content -LiteralPath (Join-Path $bulk 'batch-003/readme.pem') -Value 'not a certificate'
        Set-Content -LiteralPath (Join-Path $bulk 'batch-007/empty.crt') -Value '' -NoNewline
        [IO.File]::WriteAllBytes((Join-Path $bulk 'batch-009/random.der'), [byte[]](48, 3, 1, 2, 3))
        Set-Content -LiteralPath (Join-Path $bulk 'batch-001/notes.txt') -Value 'ignored'
        Set-Content -LiteralPath (Join-Path $bulk 'batch-001/client.key') -Value 'ignored'

        $scanScript = Join-Path $TestDrive 'scan.ps1'
        Set-Content -LiteralPath $scanScript -Value @'
param([string] $Folder, [switch] $Fail)
Import-Module $env:STITCH_MODULE_MANIFEST
Get-StitchCertExpiry -Path $Folder -FailOnReminder:$Fail -WarningAction SilentlyContinue
'after the check'
'@
    }

    It 'reads 1,000 certificates in subfolders with the right statuses and warns about each junk file' {
        $results = Get-StitchCertExpiry -Path $bulk -WarningVariable warnings -WarningAction SilentlyContinue `
            -ErrorVariable errors

        $results | Should -HaveCount 1000
        $errors | Should -HaveCount 0
        foreach ($group in $results | Group-Object Status) {
            $group.Count | Should -Be $expected[$group.Name] -Because "$($group.Name) certificates"
        }
        @($results | Group-Object Status).Count | Should -Be $expected.Count
        $skipped = @($warnings | Where-Object { "$_" -like 'Skipped*' })
        $skipped | Should -HaveCount 3
        "$skipped" | Should -BeLike '*readme.pem*'
        "$skipped" | Should -BeLike '*empty.crt*'
        "$skipped" | Should -BeLike '*random.der*'
    }

    It 'reads only the named folder with -NoRecurse' {
        Get-StitchCertExpiry -Path $bulk -NoRecurse | Should -BeNullOrEmpty
    }

    It 'filters with -ExpiringWithinDays, keeping expired ones' {
        $results = Get-StitchCertExpiry -Path (Join-Path $bulk 'batch-000') -ExpiringWithinDays 30 `
            -WarningAction SilentlyContinue
        $results.DaysRemaining | Should -Not -BeNullOrEmpty
        ($results | Where-Object DaysRemaining -GT 30) | Should -BeNullOrEmpty
        @($results | Where-Object Status -EQ 'Expired').Count | Should -BeGreaterThan 0
        @($results | Where-Object Status -EQ 'Reminder30').Count | Should -BeGreaterThan 0
    }

    It 'ends with a CertificateReminderReached error after reporting; objects only with -PassThru' {
        $folder = Join-Path $bulk 'batch-000'
        { Get-StitchCertExpiry -Path $folder -FailOnReminder -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'CertificateReminderReached,StitchMtls.Commands.GetStitchCertExpiryCommand'

        $quiet = $null
        try { $quiet = Get-StitchCertExpiry -Path $folder -FailOnReminder -WarningAction SilentlyContinue } catch { }
        $quiet | Should -BeNullOrEmpty

        $passed = [System.Collections.Generic.List[object]]::new()
        try {
            Get-StitchCertExpiry -Path $folder -FailOnReminder -PassThru -WarningAction SilentlyContinue |
                ForEach-Object { $passed.Add($_) }
        }
        catch { }
        $passed | Should -HaveCount 100
    }

    It 'does not fail with -FailOnReminder when every certificate is Ok' {
        $ok = Get-StitchCertExpiry -Path (Join-Path $chains 'plus61-chain.pem') -FailOnReminder -PassThru
        $ok.Status | Should -Be 'Ok'
    }

    It 'gives pwsh -File a non-zero exit code with -FailOnReminder, and 0 without' {
        $failing = Invoke-TestPwsh -File $scanScript -ArgumentList '-Folder', $bulk, '-Fail'
        $failing.ExitCode | Should -Not -Be 0
        $failing.Output | Should -Not -BeLike '*after the check*'
        "$($failing.Output)$($failing.Error)" | Should -BeLike '*certificate(s) have reached a reminder*'

        $passing = Invoke-TestPwsh -File $scanScript -ArgumentList '-Folder', $bulk
        $passing.ExitCode | Should -Be 0
        $passing.Output | Should -BeLike '*after the check*'
    }

    It 'treats a Cert:\CurrentUser\My that was never created as empty, for scans and lookups' {
        $freshHome = Join-Path $TestDrive 'never-created-store'
        New-Item -ItemType Directory -Path $freshHome | Out-Null
        $script = Join-Path $TestDrive 'never-created-store.ps1'
        Set-Content -LiteralPath $script -Value @'
Import-Module $env:STITCH_MODULE_MANIFEST
$missing = 'A' * 40
function Get-FailureId([scriptblock] $Call) {
    try { & $Call | Out-Null; '' } catch { $_.FullyQualifiedErrorId + '|' + $_.Exception.Message }
}
$scan = @(Get-StitchCertExpiry -Path 'Cert:\CurrentUser\My' -FailOnReminder -Verbose 4>&1)
$credential = [pscredential]::new('id', (ConvertTo-SecureString 's' -AsPlainText -Force))
[pscustomobject]@{
    Results   = @($scan | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Count
    Verbose   = ($scan | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join ' '
    ByThumb   = Get-FailureId { Get-StitchCertExpiry -Thumbprint $missing -ErrorAction Stop }
    ByName    = Get-FailureId { Get-StitchCertExpiry -CommonName stitch-none.example.com -ErrorAction Stop }
    ByPath    = Get-FailureId { Get-StitchCertExpiry -LiteralPath "Cert:\CurrentUser\My\$missing" -ErrorAction Stop }
    TokenName = Get-FailureId {
        Get-StitchAccessToken -Endpoint 'https://127.0.0.1:9/' -CommonName stitch-none.example.com -NoProxy `
            -Credential $credential -ErrorAction Stop
    }
    Created   = Test-Path -LiteralPath (Join-Path $HOME '.dotnet/corefx/cryptography/x509stores/my')
} | ConvertTo-Json -Compress
'@
        $run = Invoke-TestPwsh -File $script -Environment @{ HOME = $freshHome }

        $run.ExitCode | Should -Be 0 -Because $run.Error
        $run.Error | Should -BeNullOrEmpty
        $result = ($run.Output -split "`n" | Where-Object { $_ -like '{*' }) | ConvertFrom-Json
        $result.Results | Should -Be 0
        $result.Verbose | Should -BeLike '*Cert:\CurrentUser\My holds no certificates (or was never created)*'
        $result.ByThumb | Should -BeLike 'CertificateNotFound,StitchMtls.Commands.GetStitchCertExpiryCommand|*'
        $result.ByName | Should -BeLike 'CertificateNotFound,*|*Import-StitchChain -CertStoreLocation*'
        $result.ByPath | Should -BeLike 'CertificateNotFound,StitchMtls.Commands.GetStitchCertExpiryCommand|*'
        $result.TokenName | Should -BeLike 'CertificateNotFound,StitchMtls.Commands.GetStitchAccessTokenCommand|*'
        if (-not $IsWindows) {
            $result.Created | Should -BeFalse -Because 'reading must not create the store'
        }
    }

    It 'reads Cert:\CurrentUser\My in a process whose HOME is a fresh folder' {
        $storeHome = Join-Path $TestDrive 'store-home'
        New-Item -ItemType Directory -Path $storeHome | Out-Null
        $script = Join-Path $TestDrive 'store-scan.ps1'
        Set-Content -LiteralPath $script -Value @'
Import-Module $env:STITCH_MODULE_MANIFEST
$key = [System.Security.Cryptography.ECDsa]::Create()
$request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
    'CN=stitch-store.example.com', $key, [System.Security.Cryptography.HashAlgorithmName]::SHA256)
$certificate = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddDays(20))
$store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
$store.Open('ReadWrite'); $store.Add($certificate); $store.Close()
$all = Get-StitchCertExpiry -Path 'Cert:\CurrentUser\My' -WarningAction SilentlyContinue
$one = Get-StitchCertExpiry -LiteralPath "Cert:\CurrentUser\My\$($certificate.Thumbprint)" `
    -WarningAction SilentlyContinue
$machine = $null
if (-not $IsWindows) {
    Get-StitchCertExpiry -Path 'Cert:\LocalMachine\My' -ErrorVariable machine -ErrorAction SilentlyContinue
}
[pscustomobject]@{
    Home = [Environment]::GetFolderPath('UserProfile'); Count = @($all).Count; Status = $one.Status
    AllPath = @($all)[0].Path; OnePath = $one.Path
    Thumbprint = $one.Thumbprint; Expected = $certificate.Thumbprint
    MachineError = if ($machine) { $machine[0].FullyQualifiedErrorId } else { '' }
} | ConvertTo-Json -Compress
'@
        $run = Invoke-TestPwsh -File $script -Environment @{ HOME = $storeHome }
        $run.ExitCode | Should -Be 0 -Because $run.Error
        $result = $run.Output | ConvertFrom-Json

        $result.Home | Should -Be $storeHome
        $result.Count | Should -Be 1
        $result.Status | Should -Be 'Reminder30'
        $result.Thumbprint | Should -Be $result.Expected
        $result.AllPath | Should -Be "Cert:\CurrentUser\My\$($result.Expected)"
        $result.OnePath | Should -Be "Cert:\CurrentUser\My\$($result.Expected)"
        if (-not $IsWindows) {
            $result.MachineError | Should -Be 'PlatformNotSupported,StitchMtls.Commands.GetStitchCertExpiryCommand'
        }
        Get-ChildItem -LiteralPath $storeHome -Recurse -Force -Filter '*.pfx' | Should -HaveCount 1
    }

    It 'rejects a store path it cannot parse' {
        Get-StitchCertExpiry -Path 'Cert:\Nowhere\My' -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId |
            Should -Be 'CertStorePathInvalid,StitchMtls.Commands.GetStitchCertExpiryCommand'
    }

    It 'warns once and still reports with -EventLog -PassThru where there is no event log' {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'Windows has an event log (tested below)'
            return
        }
        $results = Get-StitchCertExpiry -Path (Join-Path $chains 'plus61-chain.pem') -EventLog -PassThru `
            -WarningVariable warnings
        $results.Status | Should -Be 'Ok'
        @($warnings) | Should -HaveCount 1
        "$warnings" | Should -BeLike '-EventLog writes nothing*only on Windows*'
    }

    It 'writes one Application event per reminder with -EventLog (Windows)' {
        if (-not $IsWindows) {
            Set-ItResult -Skipped -Because 'the Windows event log exists only on Windows'
            return
        }
        $since = Get-Date
        $results = Get-StitchCertExpiry -Path (Join-Path $bulk 'batch-000') -EventLog -PassThru `
            -WarningAction SilentlyContinue
        $events = Get-WinEvent -FilterHashtable @{ LogName = 'Application'; ProviderName = 'StitchMtls'
            StartTime = $since } -ErrorAction SilentlyContinue
        if (-not $events) {
            Set-ItResult -Skipped -Because 'the StitchMtls event source needs one elevated run to be created'
            return
        }
        $needAttention = @($results | Where-Object NeedsAttention).Count
        @($events | Where-Object Id -In 1001, 1002, 1003).Count | Should -Be $needAttention
        @($events | Where-Object Id -EQ 1000) | Should -HaveCount 1
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

BeforeDiscovery {
    $script:exported = (Import-PowerShellDataFile -LiteralPath "$PSScriptRoot/../StitchMtls.psd1").CmdletsToExport
}

Describe 'The module' {
    BeforeAll {
        $script:exported = (Import-PowerShellDataFile -LiteralPath "$PSScriptRoot/../StitchMtls.psd1").CmdletsToExport
    }

    It 'exports every cmdlet the assembly defines, each with its help page in docs/en-US' {
        $assembly = (Get-Command Test-StitchMtls).ImplementingType.Assembly
        $defined = $assembly.GetTypes() |
            ForEach-Object { $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object { "$($_.VerbName)-$($_.NounName)" }
        $commands = (Get-Command -Module StitchMtls).Name | Sort-Object
        $commands | Should -Be ($defined | Sort-Object)
        $commands | Should -Be ($script:exported | Sort-Object)
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
        $script:exported
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

    It 'shows <Command> -<Parameter> in Get-Help at position <Position>, default <Default>' -TestCases @(
        @{ Command = 'Export-StitchCertificate'; Parameter = 'Thumbprint'; Position = '0'; Default = '(none)' }
        @{ Command = 'Test-StitchMtls'; Parameter = 'Endpoint'; Position = '0'; Default = 'Secure' }
        @{ Command = 'New-StitchCsr'; Parameter = 'CommonName'; Position = '0'; Default = '(none)' }
        @{ Command = 'New-StitchCsr'; Parameter = 'KeySize'; Position = 'named'; Default = '4096' }
        @{ Command = 'New-StitchCsr'; Parameter = 'Country'; Position = 'named'; Default = 'ZA' }
        @{ Command = 'Test-StitchMtls'; Parameter = 'CertStoreLocation'; Position = 'named'
            Default = 'Cert:\CurrentUser\My' }
    ) {
        $help = Get-Help $Command -Parameter $Parameter

        $help.position | Should -Be $Position
        if ($Default -ne '(none)') {
            $help.defaultValue | Should -Be $Default
        }
    }

    It 'declares output types in the StitchMtls namespace, each with a view: <_>' -ForEach @(
        'Export-StitchCertificate', 'Grant-StitchKeyAccess', 'Import-StitchChain', 'New-StitchCsr'
    ) {
        $typeName = (Get-Command $_).OutputType[0].Name

        $typeName | Should -Match '^StitchMtls\.Stitch\w+$'
        Get-FormatData -TypeName $typeName | Should -Not -BeNullOrEmpty
    }

    It 'supports -WhatIf on every cmdlet that writes: <_>' -ForEach @(
        'New-StitchCsr', 'Import-StitchChain', 'Grant-StitchKeyAccess', 'Export-StitchCertificate'
        'New-StitchRenewalRequest', 'Complete-StitchRenewal', 'Undo-StitchRenewal', 'Remove-StitchCertificate'
        'Register-StitchExpiryTask'
    ) {
        (Get-Command $_).Parameters.Keys | Should -Contain 'WhatIf'
    }
}
