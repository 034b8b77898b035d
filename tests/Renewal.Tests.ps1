BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $commonName = 'stitch-renew.example.com'
    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $foreignPki = New-TestPki -Path (Join-Path $TestDrive 'foreign-pki')
    $gateway = Start-TestGateway -Pki $pki -AllowedCommonName $commonName

    function New-CurrentCertificate {
        # The onboarding flow, as a customer has it before the renewal: key, CSR, signed chain, import.
        param([string] $Folder)
        New-Item -ItemType Directory -Path $Folder | Out-Null
        $csr = New-StitchTestCsr -Folder $Folder -CommonName $commonName
        Invoke-TestSigningDesk -Pki $pki -CsrPath $csr.CsrPath -OutFile (Join-Path $Folder 'signed.pem') | Out-Null
        Import-StitchChain -Path (Join-Path $Folder 'signed.pem') -KeyPath $csr.KeyPath
        Remove-Item -LiteralPath (Join-Path $Folder 'signed.pem')
    }

    function Test-Pair {
        param([string] $ChainPath, [string] $KeyPath)
        Test-StitchMtls -Endpoint $gateway.Uri.ToString() -CertificatePath $ChainPath -KeyPath $KeyPath `
            -ServerCertificateAuthority $pki.Root -TimeoutSec 20
    }

    function Get-FolderState {
        # Every file in the folder, hidden ones included, with its hash: 'nothing changed' means equal states.
        param([string] $Folder)
        Get-ChildItem -LiteralPath $Folder -File -Force | Sort-Object Name |
            ForEach-Object { "$($_.Name)=$((Get-FileHash -LiteralPath $_.FullName).Hash)" }
    }

    function Read-CsrSubject {
        param([string] $Path)
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::LoadSigningRequestPem(
            (Get-Content -LiteralPath $Path -Raw), [System.Security.Cryptography.HashAlgorithmName]::SHA256)
        [pscustomobject]@{
            Subject   = [Convert]::ToBase64String($request.SubjectName.RawData)
            PublicKey = [Convert]::ToBase64String($request.PublicKey.ExportSubjectPublicKeyInfo())
        }
    }

    $testParameters = @{ Endpoint = $gateway.Uri.ToString(); ServerCertificateAuthority = $pki.Root; TimeoutSec = 20 }
}

AfterAll {
    if ($gateway) { Stop-TestGateway -Gateway $gateway }
}

Describe 'Certificate renewal against the local gateway' {
    BeforeAll {
        $folder = Join-Path $TestDrive 'end-to-end'
        $current = New-CurrentCertificate -Folder $folder
        $original = Get-FolderState -Folder $folder
        $originalChain = Get-FileHash -LiteralPath $current.ChainPath
        $originalKey = Get-FileHash -LiteralPath $current.KeyPath
    }

    It 'starts from a current certificate the gateway accepts' {
        (Test-Pair -ChainPath $current.ChainPath -KeyPath $current.KeyPath).Success | Should -BeTrue
    }

    It 'changes nothing with -WhatIf' {
        New-StitchRenewalRequest -CertificatePath $current.ChainPath -KeySize 2048 -WhatIf `
            -WarningAction SilentlyContinue
        Get-FolderState -Folder $folder | Should -Be $original
    }

    It 'makes a new key and a CSR with exactly the current subject, leaving the current files alone' {
        $script:request = New-StitchRenewalRequest -CertificatePath $current.ChainPath -KeySize 2048 `
            -WarningAction SilentlyContinue

        $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($current.ChainPath)
        $csr = Read-CsrSubject -Path $request.CsrPath
        $csr.Subject | Should -Be ([Convert]::ToBase64String($leaf.SubjectName.RawData))
        $csr.PublicKey | Should -Not -Be ([Convert]::ToBase64String($leaf.PublicKey.ExportSubjectPublicKeyInfo()))
        $request.CommonName | Should -Be $commonName
        $request.CurrentThumbprint | Should -Be $leaf.Thumbprint
        $request.PendingKeyPath | Should -Be (Join-Path $folder 'stitch-mtls.renewal.key')
        $request.RecordPath | Should -Be (Join-Path $folder 'stitch-mtls.renewal.json')
        $record = Get-Content -LiteralPath $request.RecordPath -Raw
        $record | Should -Not -BeLike '*PRIVATE KEY*'
        ($record | ConvertFrom-Json).PublicKeySha256 | Should -Be $request.PublicKeySha256
        (Get-FileHash -LiteralPath $current.ChainPath).Hash | Should -Be $originalChain.Hash
        (Get-FileHash -LiteralPath $current.KeyPath).Hash | Should -Be $originalKey.Hash
        (Test-Pair -ChainPath $current.ChainPath -KeyPath $current.KeyPath).Success | Should -BeTrue
    }

    It 'refuses a second renewal while one is pending, without -Force' {
        { New-StitchRenewalRequest -CertificatePath $current.ChainPath -KeySize 2048 -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'RenewalPending,StitchMtls.Commands.NewStitchRenewalRequestCommand'
    }

    It 'leaves every file untouched when the chain belongs to another key' {
        $other = Join-Path $TestDrive 'other-key'
        New-Item -ItemType Directory -Path $other | Out-Null
        $otherCsr = New-StitchTestCsr -Folder $other -CommonName $commonName
        $wrongChain = Invoke-TestSigningDesk -Pki $pki -CsrPath $otherCsr.CsrPath `
            -OutFile (Join-Path $other 'signed.pem')
        $before = Get-FolderState -Folder $folder

        { Complete-StitchRenewal -Path $wrongChain -CertificatePath $current.ChainPath @testParameters } |
            Should -Throw -ErrorId 'KeyCertificateMismatch,StitchMtls.Commands.CompleteStitchRenewalCommand'

        Get-FolderState -Folder $folder | Should -Be $before
    }

    It 'leaves every file untouched when the gateway rejects the renewed certificate' {
        $rejected = Invoke-TestSigningDesk -Pki $foreignPki -CsrPath $request.CsrPath `
            -OutFile (Join-Path $TestDrive 'foreign-signed.pem')
        $before = Get-FolderState -Folder $folder

        $failure = $null
        try { Complete-StitchRenewal -Path $rejected -CertificatePath $current.ChainPath @testParameters }
        catch { $failure = $_ }

        $failure.FullyQualifiedErrorId | Should -Be 'RenewalTestFailed,StitchMtls.Commands.CompleteStitchRenewalCommand'
        $failure.CategoryInfo.Category | Should -Be 'SecurityError'
        "$failure" | Should -BeLike '*Tls stage*'
        "$failure" | Should -BeLike '*current certificate is unchanged*'
        Get-FolderState -Folder $folder | Should -Be $before
        (Test-Pair -ChainPath $current.ChainPath -KeyPath $current.KeyPath).Success | Should -BeTrue
    }

    It 'fails as a connection error, not a security one, when the gateway is down' {
        $closedPort = Get-FreeLoopbackPort
        $down = Invoke-TestSigningDesk -Pki $pki -CsrPath $request.CsrPath `
            -OutFile (Join-Path $TestDrive 'down-signed.pem')
        $before = Get-FolderState -Folder $folder

        $failure = $null
        try {
            Complete-StitchRenewal -Path $down -CertificatePath $current.ChainPath `
                -Endpoint "https://127.0.0.1:$closedPort/" -ServerCertificateAuthority $pki.Root -TimeoutSec 20
        }
        catch { $failure = $_ }

        $failure.FullyQualifiedErrorId | Should -Be 'RenewalTestFailed,StitchMtls.Commands.CompleteStitchRenewalCommand'
        $failure.CategoryInfo.Category | Should -Be 'ConnectionError'
        "$failure" | Should -BeLike '*(ConnectionRefused)*'
        Get-FolderState -Folder $folder | Should -Be $before
    }

    It 'changes nothing when completing with -WhatIf' {
        $script:signed = Invoke-TestSigningDesk -Pki $pki -CsrPath $request.CsrPath `
            -OutFile (Join-Path $TestDrive 'renewed-signed.pem')
        $before = Get-FolderState -Folder $folder
        Complete-StitchRenewal -Path $signed -CertificatePath $current.ChainPath @testParameters -WhatIf
        Get-FolderState -Folder $folder | Should -Be $before
    }

    It 'installs, tests and switches to the renewed certificate, keeping the old pair as *.previous' {
        $renewal = Complete-StitchRenewal -Path $signed -CertificatePath $current.ChainPath @testParameters

        $renewal.Action | Should -Be 'Completed'
        $renewal.TestResult.Success | Should -BeTrue
        $renewal.TestResult.ClientCertificateThumbprint | Should -Be $renewal.Thumbprint
        $renewal.PreviousThumbprint | Should -Be $request.CurrentThumbprint
        $renewal.Thumbprint | Should -Not -Be $request.CurrentThumbprint
        (Get-FileHash -LiteralPath "$($current.ChainPath).previous").Hash | Should -Be $originalChain.Hash
        (Get-FileHash -LiteralPath "$($current.KeyPath).previous").Hash | Should -Be $originalKey.Hash
        $request.RecordPath | Should -Not -Exist
        $request.PendingKeyPath | Should -Not -Exist
        Get-ChildItem -LiteralPath $folder -Force -Filter '.*' | Should -BeNullOrEmpty

        $after = Test-Pair -ChainPath $current.ChainPath -KeyPath $current.KeyPath
        $after.Success | Should -BeTrue
        $after.ClientCertificateThumbprint | Should -Be $renewal.Thumbprint
        (Get-TestGatewayHandshake -Gateway $gateway)[-1].CommonName | Should -Be $commonName
    }

    It 'switches back to the previous pair with Undo-StitchRenewal, and forward again' {
        $renewedChain = Get-FileHash -LiteralPath $current.ChainPath

        Undo-StitchRenewal -CertificatePath $current.ChainPath -WhatIf
        (Get-FileHash -LiteralPath $current.ChainPath).Hash | Should -Be $renewedChain.Hash

        $undone = Undo-StitchRenewal -CertificatePath $current.ChainPath
        $undone.Action | Should -Be 'Undone'
        $undone.Thumbprint | Should -Be $request.CurrentThumbprint
        (Get-FileHash -LiteralPath $current.ChainPath).Hash | Should -Be $originalChain.Hash
        (Get-FileHash -LiteralPath $current.KeyPath).Hash | Should -Be $originalKey.Hash
        (Get-FileHash -LiteralPath "$($current.ChainPath).previous").Hash | Should -Be $renewedChain.Hash
        (Test-Pair -ChainPath $current.ChainPath -KeyPath $current.KeyPath).Success | Should -BeTrue

        (Undo-StitchRenewal -CertificatePath $current.ChainPath).Action | Should -Be 'Undone'
        (Get-FileHash -LiteralPath $current.ChainPath).Hash | Should -Be $renewedChain.Hash
    }
}

Describe 'Renewal inputs that cannot work' {
    It 'asks for -KeyPath when the chain name does not lead to its key' {
        $folder = Join-Path $TestDrive 'odd-name'
        $current = New-CurrentCertificate -Folder $folder
        $renamed = Join-Path $folder 'client.pem'
        Copy-Item -LiteralPath $current.ChainPath -Destination $renamed
        { New-StitchRenewalRequest -CertificatePath $renamed } |
            Should -Throw -ErrorId 'KeyPathRequired,StitchMtls.Commands.NewStitchRenewalRequestCommand'
    }

    It 'refuses a -KeyPath that is not the certificate''s key, naming both files, and writes nothing' {
        $folder = Join-Path $TestDrive 'wrong-key'
        $current = New-CurrentCertificate -Folder $folder
        $otherCsr = New-StitchTestCsr -Folder $folder -CommonName $commonName -Name 'wrong'
        $before = Get-FolderState -Folder $folder

        $failure = $null
        try { New-StitchRenewalRequest -CertificatePath $current.ChainPath -KeyPath $otherCsr.KeyPath -KeySize 2048 }
        catch { $failure = $_ }

        $failure.FullyQualifiedErrorId |
            Should -Be 'KeyCertificateMismatch,StitchMtls.Commands.NewStitchRenewalRequestCommand'
        $failure.CategoryInfo.Category | Should -Be 'InvalidData'
        "$failure" | Should -BeLike "*'$($otherCsr.KeyPath)'*'$($current.ChainPath)'*-KeyPath*"
        Get-FolderState -Folder $folder | Should -Be $before
    }

    It 'refuses to complete when the current key is not the certificate''s, leaving the folder as it was' {
        $folder = Join-Path $TestDrive 'wrong-key-complete'
        $current = New-CurrentCertificate -Folder $folder
        $request = New-StitchRenewalRequest -CertificatePath $current.ChainPath -KeySize 2048 `
            -WarningAction SilentlyContinue
        $signed = Invoke-TestSigningDesk -Pki $pki -CsrPath $request.CsrPath `
            -OutFile (Join-Path $TestDrive 'wrong-key-complete.pem')
        # The key beside the chain is replaced after the request, as a mistaken copy would.
        $strangerFolder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'stranger')
        $stranger = New-StitchTestCsr -Folder $strangerFolder.FullName -CommonName $commonName
        Copy-Item -LiteralPath $stranger.KeyPath -Destination $current.KeyPath -Force
        $before = Get-FolderState -Folder $folder

        { Complete-StitchRenewal -Path $signed -CertificatePath $current.ChainPath -SkipTest `
                -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId 'KeyCertificateMismatch,StitchMtls.Commands.CompleteStitchRenewalCommand'
        Get-FolderState -Folder $folder | Should -Be $before
    }

    It 'makes an RSA 4096 key by default without a warning, and warns only for a smaller -KeySize' {
        $folder = Join-Path $TestDrive 'key-size'
        $current = New-CurrentCertificate -Folder $folder

        $default = New-StitchRenewalRequest -CertificatePath $current.ChainPath -WarningVariable quiet
        $default.KeySize | Should -Be 4096
        $csr = [System.Security.Cryptography.X509Certificates.CertificateRequest]::LoadSigningRequestPem(
            (Get-Content -LiteralPath $default.CsrPath -Raw), [System.Security.Cryptography.HashAlgorithmName]::SHA256)
        $csr.PublicKey.GetRSAPublicKey().KeySize | Should -Be 4096
        $quiet | Should -BeNullOrEmpty

        $small = New-StitchRenewalRequest -CertificatePath $current.ChainPath -KeySize 2048 -Force `
            -WarningVariable warned -WarningAction SilentlyContinue
        $small.KeySize | Should -Be 2048
        "$warned" | Should -BeLike '*4096*-KeySize*'
    }

    It 'ends a script with a non-zero exit code, and is caught by try/catch, when <Command> fails' -TestCases @(
        @{ Command = 'Undo-StitchRenewal'; ErrorId = 'PreviousCertificateNotFound'; Extra = '' }
        @{ Command = 'New-StitchRenewalRequest'; ErrorId = 'KeyPathRequired'; Extra = '' }
        @{ Command = 'Complete-StitchRenewal'; ErrorId = 'RenewalNotFound'; Extra = '-SkipTest' }
    ) {
        param($Command, $ErrorId, $Extra)
        # Each case names a chain with nothing to act on: no previous pair, no '<name>-chain.pem' name, no renewal.
        $folder = Join-Path $TestDrive "exit-$Command"
        $current = New-CurrentCertificate -Folder $folder
        $target = $current.ChainPath
        if ($Command -eq 'New-StitchRenewalRequest') {
            $target = Join-Path $folder 'client.pem'
            Copy-Item -LiteralPath $current.ChainPath -Destination $target
        }
        $pathArgument = if ($Command -eq 'Complete-StitchRenewal') { "-Path '$target' " } else { '' }
        $line = "$Command $pathArgument-CertificatePath '$target' $Extra -WarningAction SilentlyContinue"
        $script = Join-Path $TestDrive "exit-$Command.ps1"
        Set-Content -LiteralPath $script -Value @(
            'Import-Module $env:STITCH_MODULE_MANIFEST'
            $line
            "'after the failure'"
        )

        $run = Invoke-TestPwsh -File $script
        $run.ExitCode | Should -Not -Be 0 -Because $run.Error
        $run.Output | Should -Not -BeLike '*after the failure*'

        $caught = $null
        try { Invoke-Expression $line } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
    }

    It 'removes the key copy it made when the switch fails, so the folder is as it was' {
        $chattr = Get-Command chattr -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if (-not $IsLinux -or -not $chattr -or (id -u) -ne '0') {
            Set-ItResult -Skipped -Because 'an immutable key file needs chattr +i as root on Linux'
            return
        }
        $folder = Join-Path $TestDrive 'immutable-key'
        $current = New-CurrentCertificate -Folder $folder
        $request = New-StitchRenewalRequest -CertificatePath $current.ChainPath -KeySize 2048 `
            -WarningAction SilentlyContinue
        $signed = Invoke-TestSigningDesk -Pki $pki -CsrPath $request.CsrPath `
            -OutFile (Join-Path $TestDrive 'immutable-signed.pem')
        $before = Get-FolderState -Folder $folder
        & $chattr.Source +i $current.KeyPath
        if ($LASTEXITCODE -ne 0) {
            Set-ItResult -Skipped -Because 'this file system does not support chattr +i'
            return
        }
        try {
            { Complete-StitchRenewal -Path $signed -CertificatePath $current.ChainPath -SkipTest `
                    -WarningAction SilentlyContinue } |
                Should -Throw -ErrorId 'FileSwitchFailed,StitchMtls.Commands.CompleteStitchRenewalCommand'
        }
        finally {
            & $chattr.Source -i $current.KeyPath
        }

        Get-FolderState -Folder $folder | Should -Be $before
        "$($current.KeyPath).previous" | Should -Not -Exist
    }

    It 'says there is no pending renewal to complete' {
        $folder = Join-Path $TestDrive 'no-pending'
        $current = New-CurrentCertificate -Folder $folder
        { Complete-StitchRenewal -Path $current.ChainPath -CertificatePath $current.ChainPath -SkipTest } |
            Should -Throw -ErrorId 'RenewalNotFound,StitchMtls.Commands.CompleteStitchRenewalCommand'
    }

    It 'cannot undo without a previous pair' {
        $folder = Join-Path $TestDrive 'no-previous'
        $current = New-CurrentCertificate -Folder $folder
        { Undo-StitchRenewal -CertificatePath $current.ChainPath } |
            Should -Throw -ErrorId 'PreviousCertificateNotFound,StitchMtls.Commands.UndoStitchRenewalCommand'
    }

    It 'completes with -SkipTest and an encrypted renewal key, warning that nothing was tested' {
        $folder = Join-Path $TestDrive 'skip-test'
        $current = New-CurrentCertificate -Folder $folder
        $password = ConvertTo-SecureString 'renewal-password' -AsPlainText -Force
        $request = New-StitchRenewalRequest -CertificatePath $current.ChainPath -KeySize 2048 -KeyPassword $password `
            -WarningAction SilentlyContinue
        $request.KeyProtection | Should -Be 'Encrypted'
        $signed = Invoke-TestSigningDesk -Pki $pki -CsrPath $request.CsrPath -OutFile (Join-Path $TestDrive 'skip.pem')

        $renewal = Complete-StitchRenewal -Path $signed -CertificatePath $current.ChainPath -KeyPassword $password `
            -SkipTest -WarningVariable warnings -WarningAction SilentlyContinue

        $renewal.TestResult | Should -BeNullOrEmpty
        "$warnings" | Should -BeLike '*-SkipTest*'
        $result = Test-StitchMtls -Endpoint $gateway.Uri.ToString() -CertificatePath $current.ChainPath `
            -KeyPath $current.KeyPath -KeyPassword $password -ServerCertificateAuthority $pki.Root -TimeoutSec 20
        $result.Success | Should -BeTrue
    }
}
