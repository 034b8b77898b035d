BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')

    function New-Pair {
        param([string] $Name)
        New-TestClientCertificate -Pki $pki -CommonName "stitch-$Name.example.com" -OutDir (Join-Path $TestDrive $Name)
    }
}

Describe 'Remove-StitchCertificate' {
    It 'changes nothing with -WhatIf' {
        $pair = New-Pair -Name 'whatif'
        $before = Get-FileHashes -Path $pair.KeyPath, $pair.ChainPath

        Remove-StitchCertificate -CertificatePath $pair.ChainPath -KeyPath $pair.KeyPath -WhatIf

        Get-FileHashes -Path $pair.KeyPath, $pair.ChainPath | Should -Be $before
    }

    It 'deletes the key and certificate and says what to tell Stitch' {
        $pair = New-Pair -Name 'compromised'
        $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pair.LeafPath)

        $removal = Remove-StitchCertificate -CertificatePath $pair.ChainPath -KeyPath $pair.KeyPath -Force `
            -WarningVariable warnings -WarningAction SilentlyContinue

        $pair.KeyPath | Should -Not -Exist
        $pair.ChainPath | Should -Not -Exist
        $removal.Removed | Should -Be $pair.KeyPath, $pair.ChainPath
        $removal.Thumbprint | Should -Be $leaf.Thumbprint
        $removal.SerialNumber | Should -Be $leaf.SerialNumber
        $removal.TellStitch | Should -BeLike '*contact Stitch immediately*revoke*stitch-compromised.example.com*'
        "$warnings" | Should -Be $removal.TellStitch
        "$warnings" | Should -Not -BeLike '*PRIVATE KEY*'
    }

    It 'deletes with -Confirm:$false as well as with -Force' {
        $pair = New-Pair -Name 'confirm-false'
        Remove-StitchCertificate -KeyPath $pair.KeyPath -Confirm:$false -WarningAction SilentlyContinue | Out-Null
        $pair.KeyPath | Should -Not -Exist
        $pair.ChainPath | Should -Exist
    }

    It 'refuses without -Force in a non-interactive session instead of waiting at a prompt' {
        $pair = New-Pair -Name 'unattended'
        $script = Join-Path $TestDrive 'unattended.ps1'
        Set-Content -LiteralPath $script -Value @'
param([string] $Chain, [string] $Key)
Import-Module $env:STITCH_MODULE_MANIFEST
try { Remove-StitchCertificate -CertificatePath $Chain -KeyPath $Key } catch { $_.FullyQualifiedErrorId }
'@
        $run = Invoke-TestPwsh -File $script -ArgumentList '-Chain', $pair.ChainPath, '-Key', $pair.KeyPath `
            -TimeoutSeconds 60

        $run.Output.Trim() | Should -Be 'ConfirmationRequired,StitchMtls.Commands.RemoveStitchCertificateCommand'
        $pair.KeyPath | Should -Exist
        $pair.ChainPath | Should -Exist
    }

    It 'refuses a key that does not belong to the certificate, even with -Force, and removes nothing' {
        $first = New-Pair -Name 'first'
        $second = New-Pair -Name 'second'
        { Remove-StitchCertificate -CertificatePath $first.ChainPath -KeyPath $second.KeyPath -Force } |
            Should -Throw -ErrorId 'KeyCertificateMismatch,StitchMtls.Commands.RemoveStitchCertificateCommand'
        $first.ChainPath | Should -Exist
        $second.KeyPath | Should -Exist
    }

    It 'with -CertificatePath alone finds <Case> and removes it with the certificate' -TestCases @(
        @{ Case = 'the key named after the chain'; ChainName = 'stitch-mtls-chain.pem'; KeyName = 'stitch-mtls.key' }
        @{ Case = 'a key of another name by its public key'; ChainName = 'current.pem'; KeyName = 'prod-2026.key' }
    ) {
        $folder = Join-Path $TestDrive "beside-$($KeyName -replace '\W', '')"
        $pair = New-TestClientCertificate -Pki $pki -CommonName 'stitch-beside.example.com' -OutDir $folder
        $chain = Join-Path $folder $ChainName
        $key = Join-Path $folder $KeyName
        Move-Item -LiteralPath $pair.ChainPath -Destination $chain
        Move-Item -LiteralPath $pair.KeyPath -Destination $key
        $decoy = (New-TestClientCertificate -Pki $pki -CommonName 'stitch-decoy.example.com' -OutDir $folder `
            -Name 'another').KeyPath

        $removal = Remove-StitchCertificate -CertificatePath $chain -Force -WarningAction SilentlyContinue

        $removal.Removed | Should -Be $key, $chain
        $key | Should -Not -Exist
        $chain | Should -Not -Exist
        $decoy | Should -Exist
    }

    It 'shows both files with -WhatIf when -CertificatePath alone finds the key' {
        $pair = New-Pair -Name 'whatif-beside'
        $script = Join-Path $TestDrive 'whatif-beside.ps1'
        Set-Content -LiteralPath $script -Value @'
param([string] $Chain)
Import-Module $env:STITCH_MODULE_MANIFEST
Remove-StitchCertificate -CertificatePath $Chain -WhatIf
'@
        $run = Invoke-TestPwsh -File $script -ArgumentList '-Chain', $pair.ChainPath -TimeoutSeconds 300

        $run.Output | Should -BeLike "*What if:*and its private key*$($pair.KeyPath) and $($pair.ChainPath)*"
        $pair.KeyPath | Should -Exist
        $pair.ChainPath | Should -Exist
    }

    It 'refuses -CertificatePath alone with KeyPathRequired when no key beside it matches, removing nothing' {
        $pair = New-Pair -Name 'no-key'
        $other = New-Pair -Name 'other-key'
        Remove-Item -LiteralPath $pair.KeyPath
        Copy-Item -LiteralPath $other.KeyPath -Destination $pair.KeyPath

        $failure = { Remove-StitchCertificate -CertificatePath $pair.ChainPath -Force } |
            Should -Throw -ErrorId 'KeyPathRequired,StitchMtls.Commands.RemoveStitchCertificateCommand' -PassThru

        $failure.Exception.Message | Should -BeLike '*Nothing was removed*-KeyPath*-CertificateOnly*'
        $pair.ChainPath | Should -Exist
        $pair.KeyPath | Should -Exist
    }

    It 'removes only the certificate with -CertificateOnly and warns that the key was kept' {
        $pair = New-Pair -Name 'certificate-only'
        $removal = Remove-StitchCertificate -CertificatePath $pair.ChainPath -CertificateOnly -Force `
            -WarningVariable warnings -WarningAction SilentlyContinue

        $removal.Removed | Should -Be $pair.ChainPath
        $pair.ChainPath | Should -Not -Exist
        $pair.KeyPath | Should -Exist
        "$warnings" | Should -BeLike '*private key*was not removed (-CertificateOnly)*'
    }

    It 'refuses -CertificateOnly together with -KeyPath' {
        $pair = New-Pair -Name 'only-and-key'
        { Remove-StitchCertificate -CertificatePath $pair.ChainPath -KeyPath $pair.KeyPath -CertificateOnly -Force } |
            Should -Throw -ErrorId 'CertificateOnlyWithKeyPath,StitchMtls.Commands.RemoveStitchCertificateCommand'
        $pair.ChainPath | Should -Exist
    }

    It 'answers an explicit -Confirm in a non-interactive session of <Command> with ConfirmationRequired' -TestCases @(
        @{ Command = 'Remove-StitchCertificate'; Type = 'RemoveStitchCertificateCommand' }
        @{ Command = 'New-StitchRenewalRequest'; Type = 'NewStitchRenewalRequestCommand' }
        @{ Command = 'Undo-StitchRenewal'; Type = 'UndoStitchRenewalCommand' }
    ) {
        $pair = New-Pair -Name "confirm-$Command"
        $before = Get-ChildItem -LiteralPath (Split-Path $pair.ChainPath) | ForEach-Object Name
        $script = Join-Path $TestDrive "confirm-$Command.ps1"
        Set-Content -LiteralPath $script -Value @'
param([string] $Command, [string] $Chain)
Import-Module $env:STITCH_MODULE_MANIFEST
try { & $Command -CertificatePath $Chain -Confirm -WarningAction SilentlyContinue } catch { $_.FullyQualifiedErrorId }
'@
        $run = Invoke-TestPwsh -File $script -ArgumentList '-Command', $Command, '-Chain', $pair.ChainPath `
            -TimeoutSeconds 300

        $run.Output.Trim() | Should -Be "ConfirmationRequired,StitchMtls.Commands.$Type" -Because $run.Error
        $run.Output | Should -Not -BeLike '*What if:*' -Because 'nothing is rehearsed when the prompt is refused'
        Get-ChildItem -LiteralPath (Split-Path $pair.ChainPath) | ForEach-Object Name | Should -Be $before
    }

    It 'needs at least one file' {
        { Remove-StitchCertificate -Force } |
            Should -Throw -ErrorId 'NothingToRemove,StitchMtls.Commands.RemoveStitchCertificateCommand'
    }

    It 'ends a pwsh -File script on <Case>, so a clean-up with a mistake does not exit 0' -TestCases @(
        @{ Case = 'a thumbprint not in the store'; Call = 'Remove-StitchCertificate -Thumbprint (''A'' * 40) -Force'
            ErrorId = 'CertificateNotFound'; Command = 'RemoveStitchCertificateCommand' }
        @{ Case = 'a malformed thumbprint'; Call = 'Remove-StitchCertificate -Thumbprint ''not-hex'' -Force'
            ErrorId = 'ThumbprintInvalid'; Command = 'RemoveStitchCertificateCommand' }
        @{ Case = 'an export of a missing thumbprint'
            Call = 'Export-StitchCertificate -Thumbprint (''A'' * 40) -PfxPath (Join-Path $HOME ''x.pfx'') ' +
                '-PfxPassword (ConvertTo-SecureString p -AsPlainText -Force)'
            ErrorId = 'CertificateNotFound'; Command = 'ExportStitchCertificateCommand' }
        @{ Case = 'an export of a malformed thumbprint'
            Call = 'Export-StitchCertificate -Thumbprint ''not-hex'' -PfxPath (Join-Path $HOME ''x.pfx'') ' +
                '-PfxPassword (ConvertTo-SecureString p -AsPlainText -Force)'
            ErrorId = 'ThumbprintInvalid'; Command = 'ExportStitchCertificateCommand' }
    ) {
        $storeHome = Join-Path $TestDrive "terminating-$($ErrorId)-$($Command)"
        New-Item -ItemType Directory -Path $storeHome -Force | Out-Null
        $script = Join-Path $storeHome 'cleanup.ps1'
        Set-Content -LiteralPath $script -Value @"
Import-Module `$env:STITCH_MODULE_MANIFEST
try { $Call } catch { 'caught ' + `$_.FullyQualifiedErrorId }
$Call
'script continued'
"@
        $run = Invoke-TestPwsh -File $script -Environment @{ HOME = $storeHome } -TimeoutSeconds 120

        $run.ExitCode | Should -Not -Be 0
        $run.Output | Should -BeLike "*caught $ErrorId,StitchMtls.Commands.$Command*"
        $run.Output | Should -Not -BeLike '*script continued*'
        $run.Error | Should -BeLike "*$ErrorId*"
    }

    It 'stops at the first piped item that fails and leaves the rest untouched' {
        $first = New-Pair -Name 'piped-first'
        $other = New-Pair -Name 'piped-other'
        $last = New-Pair -Name 'piped-last'
        $items = @(
            [pscustomobject]@{ CertificatePath = $first.ChainPath; KeyPath = $other.KeyPath }
            [pscustomobject]@{ CertificatePath = $last.ChainPath; KeyPath = $last.KeyPath }
        )

        { $items | Remove-StitchCertificate -Force -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'KeyCertificateMismatch,StitchMtls.Commands.RemoveStitchCertificateCommand'

        $first.ChainPath | Should -Exist
        $last.ChainPath | Should -Exist
        $last.KeyPath | Should -Exist
    }

    It 'removes a store entry by thumbprint in a process whose HOME is a fresh folder' {
        $storeHome = Join-Path $TestDrive 'store-home'
        New-Item -ItemType Directory -Path $storeHome | Out-Null
        $script = Join-Path $TestDrive 'store-remove.ps1'
        Set-Content -LiteralPath $script -Value @'
Import-Module $env:STITCH_MODULE_MANIFEST
$key = [System.Security.Cryptography.ECDsa]::Create()
$request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
    'CN=stitch-store.example.com', $key, [System.Security.Cryptography.HashAlgorithmName]::SHA256)
$certificate = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddDays(-1), [DateTimeOffset]::UtcNow.AddDays(200))
$store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
$store.Open('ReadWrite'); $store.Add($certificate); $store.Close()
Remove-StitchCertificate -Thumbprint $certificate.Thumbprint -WhatIf
$afterWhatIf = @(Get-StitchCertExpiry -Path 'Cert:\CurrentUser\My').Count
$removal = Remove-StitchCertificate -Thumbprint $certificate.Thumbprint -Force -WarningAction SilentlyContinue
$missing = try { Remove-StitchCertificate -Thumbprint $certificate.Thumbprint -Force; '' }
catch { $_.FullyQualifiedErrorId }
[pscustomobject]@{
    AfterWhatIf = $afterWhatIf; AfterRemove = @(Get-StitchCertExpiry -Path 'Cert:\CurrentUser\My').Count
    Removed = $removal.Removed[0]; Expected = "Cert:\CurrentUser\My\$($certificate.Thumbprint)"
    Missing = $missing
} | ConvertTo-Json -Compress
'@
        $run = Invoke-TestPwsh -File $script -Environment @{ HOME = $storeHome }
        $run.ExitCode | Should -Be 0 -Because $run.Error
        $result = ($run.Output -split "`n" | Where-Object { $_ -like '{*' }) | ConvertFrom-Json

        $result.AfterWhatIf | Should -Be 1
        $result.AfterRemove | Should -Be 0
        $result.Removed | Should -Be $result.Expected
        $result.Missing | Should -Be 'CertificateNotFound,StitchMtls.Commands.RemoveStitchCertificateCommand'
        Get-ChildItem -LiteralPath $storeHome -Recurse -Force -Filter '*.pfx' | Should -BeNullOrEmpty
    }
}
