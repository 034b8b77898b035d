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
        New-StitchRenewalRequest -CertificatePath $current.ChainPath -KeySize 2048 -ErrorVariable errors `
            -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId |
            Should -Be 'RenewalPending,StitchMtls.Commands.NewStitchRenewalRequestCommand'
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
        "$failure" | Should -BeLike '*current certificate is unchanged*'
        Get-FolderState -Folder $folder | Should -Be $before
        (Test-Pair -ChainPath $current.ChainPath -KeyPath $current.KeyPath).Success | Should -BeTrue
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
        New-StitchRenewalRequest -CertificatePath $renamed -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId |
            Should -Be 'KeyPathRequired,StitchMtls.Commands.NewStitchRenewalRequestCommand'
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
        Undo-StitchRenewal -CertificatePath $current.ChainPath -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId |
            Should -Be 'PreviousCertificateNotFound,StitchMtls.Commands.UndoStitchRenewalCommand'
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
