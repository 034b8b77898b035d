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
        Remove-StitchCertificate -CertificatePath $first.ChainPath -KeyPath $second.KeyPath -Force `
            -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId |
            Should -Be 'KeyCertificateMismatch,StitchMtls.Commands.RemoveStitchCertificateCommand'
        $first.ChainPath | Should -Exist
        $second.KeyPath | Should -Exist
    }

    It 'needs at least one file' {
        Remove-StitchCertificate -Force -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId |
            Should -Be 'NothingToRemove,StitchMtls.Commands.RemoveStitchCertificateCommand'
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
$missing = $null
Remove-StitchCertificate -Thumbprint $certificate.Thumbprint -Force -ErrorVariable missing -ErrorAction SilentlyContinue
[pscustomobject]@{
    AfterWhatIf = $afterWhatIf; AfterRemove = @(Get-StitchCertExpiry -Path 'Cert:\CurrentUser\My').Count
    Removed = $removal.Removed[0]; Expected = "Cert:\CurrentUser\My\$($certificate.Thumbprint)"
    Missing = $missing[0].FullyQualifiedErrorId
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
