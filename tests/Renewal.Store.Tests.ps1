# Renewal of a certificate held in the certificate store (issue 6, store mode). Every step that touches a store runs
# in a child pwsh with a private HOME (tests/common/IsolatedStore.ps1), so the developer's own store is never read
# or changed. On Windows HOME does not move the stores: the certificates made here carry a random CN and are
# removed again in AfterAll.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'common/IsolatedStore.ps1')

    $script:StoreHelpers = Join-Path $PSScriptRoot 'common/IsolatedStore.ps1'
    $suffix = [guid]::NewGuid().ToString('N').Substring(0, 8)
    $commonName = "stitch-renew-$suffix.example.com"
    $userHome = Join-Path $TestDrive 'home'
    $csrFolder = Join-Path $TestDrive 'csr'
    New-Item -ItemType Directory -Path $userHome, $csrFolder | Out-Null
    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $foreignPki = New-TestPki -Path (Join-Path $TestDrive 'foreign-pki')
    $gateway = Start-TestGateway -Pki $pki -AllowedCommonName $commonName

    function Get-StoreState {
        Invoke-IsolatedStep -UserHome $userHome -ArgumentList $StoreHelpers, $commonName {
            param($Helpers, $CommonName)
            . $Helpers
            [pscustomobject]@{ Lines = @(Get-TestStoreState -CommonName $CommonName | Sort-Object) }
        } | ForEach-Object { $_.Lines -join "`n" }
    }

    function Test-ByCommonName {
        # What a runbook using -CommonName gets today: the certificate it picks and whether the gateway took it.
        Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName, $gateway.Uri, $pki.Root {
            param($CommonName, $Uri, $ServerCa)
            $result = Test-StitchMtls -Endpoint $Uri -CommonName $CommonName -ServerCertificateAuthority $ServerCa `
                -NoProxy -TimeoutSec 30 -WarningAction SilentlyContinue
            [pscustomobject]@{
                Success    = $result.Success
                Diagnosis  = $result.Diagnosis
                Thumbprint = $result.ClientCertificateThumbprint
            }
        }
    }

    function Complete-InStep {
        # Complete-StitchRenewal in the isolated store; a terminating error comes back with its ErrorId.
        param([string] $Chain, [hashtable] $Extra = @{})
        $arguments = $Chain, $gateway.Uri, $pki.Root, $Extra
        Invoke-IsolatedStep -UserHome $userHome -ArgumentList $arguments {
            param($Chain, $Uri, $ServerCa, $Extra)
            $splat = @{}
            foreach ($property in $Extra.PSObject.Properties) { $splat[$property.Name] = $property.Value }
            Complete-StitchRenewal -Path $Chain -CertStoreLocation 'Cert:\CurrentUser\My' -Endpoint $Uri `
                -ServerCertificateAuthority $ServerCa -NoProxy -TimeoutSec 30 @splat |
                Select-Object Action, Thumbprint, PreviousThumbprint, PreviousRemoved, CertificatePath,
                    PreviousCertificatePath, @{ Name = 'Tested'; Expression = { $_.TestResult.Success } }
        }
    }

    function Invoke-StoreRenewal {
        # A whole renewal of the certificate with $Thumbprint: request, signing desk, Complete-StitchRenewal.
        param([string] $Thumbprint, [string] $Name, [hashtable] $Extra = @{})
        $requested = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $Thumbprint, $csrFolder {
            param($Thumbprint, $Folder)
            New-StitchRenewalRequest -Thumbprint $Thumbprint -Path $Folder -KeySize 2048 -Force `
                -WarningAction SilentlyContinue | Select-Object CsrPath
        }
        $chain = Invoke-TestSigningDesk -Pki $pki -CsrPath $requested.CsrPath `
            -OutFile (Join-Path $TestDrive "$Name.pem")
        Complete-InStep -Chain $chain -Extra $Extra
    }

    function Undo-InStep {
        # Undo-StitchRenewal -CommonName in the isolated store; a terminating error comes back with its ErrorId.
        param([hashtable] $Extra = @{})
        Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName, $Extra {
            param($CommonName, $Extra)
            $splat = @{}
            foreach ($property in $Extra.PSObject.Properties) { $splat[$property.Name] = $property.Value }
            Undo-StitchRenewal -CommonName $CommonName @splat | Select-Object Action, Thumbprint, PreviousThumbprint
        }
    }

    function Get-StoreExpiry {
        # Get-StitchCertExpiry in the isolated store, with the warnings it wrote.
        param([hashtable] $Arguments)
        Invoke-IsolatedStep -UserHome $userHome -ArgumentList $Arguments {
            param($Arguments)
            $splat = @{}
            foreach ($property in $Arguments.PSObject.Properties) { $splat[$property.Name] = $property.Value }
            $reports = @(Get-StitchCertExpiry @splat -WarningVariable warnings -WarningAction SilentlyContinue |
                Select-Object Thumbprint, Status, SupersededBy, NextReminder)
            [pscustomobject]@{ Reports = $reports; Warnings = @($warnings | ForEach-Object { "$_" }) }
        }
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

    # The certificate in use before the renewal: made for the store, signed 30 days ago, 40 days left.
    $onboarding = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName, $csrFolder {
        param($CommonName, $Folder)
        New-StitchCsr -CommonName $CommonName -Organization 'Example Ltd' -KeySize 2048 -Path $Folder `
            -Name 'onboarding' -CertStoreLocation 'Cert:\CurrentUser\My' -WarningAction SilentlyContinue |
            Select-Object CsrPath
    }
    $firstChain = Invoke-TestSigningDesk -Pki $pki -CsrPath $onboarding.CsrPath -ValidFromDays -30 -ExpiresInDays 40 `
        -OutFile (Join-Path $TestDrive 'first.pem')
    $current = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $firstChain {
        param($Chain)
        Import-StitchChain -Path $Chain -CertStoreLocation 'Cert:\CurrentUser\My' |
            Select-Object Thumbprint, @{ Name = 'Subject'; Expression = {
                [Convert]::ToBase64String(([System.Security.Cryptography.X509Certificates.X509Certificate2]::new(
                    $Chain)).SubjectName.RawData) } }
    }
}

AfterAll {
    if ($gateway) { Stop-TestGateway -Gateway $gateway }
    if ($IsWindows) {
        # This run's certificates (by CN, and the keyless-<CN> one) with their keys, and its intermediate, out of
        # the real stores again.
        $intermediate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem(
            (Get-Content -LiteralPath $pki.Intermediate -Raw))
        foreach ($name in 'My', 'CA') {
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new($name, 'CurrentUser')
            $store.Open('ReadWrite')
            foreach ($certificate in @($store.Certificates)) {
                if ($certificate.GetNameInfo('SimpleName', $false) -notlike "*$commonName" -and
                    $certificate.Thumbprint -ne $intermediate.Thumbprint) { continue }
                if ($certificate.HasPrivateKey) {
                    $key = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::
                        GetRSAPrivateKey($certificate)
                    if ($key -is [System.Security.Cryptography.RSACng]) { $key.Key.Delete() }
                }
                $store.Remove($certificate)
            }
            $store.Close()
        }
    }
}

Describe 'Renewal of a store certificate against the local gateway' {
    It 'starts from a store certificate the gateway accepts' {
        $current.PSObject.Properties.Name | Should -Not -Contain 'ErrorId' -Because 'the onboarding import must work'
        $used = Test-ByCommonName
        $used.Success | Should -BeTrue -Because $used.Diagnosis
        $used.Thumbprint | Should -Be $current.Thumbprint
    }

    It 'changes nothing when requesting with -WhatIf' {
        $before = Get-StoreState
        $outcome = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName, $csrFolder {
            param($CommonName, $Folder)
            New-StitchRenewalRequest -CommonName $CommonName -Path $Folder -KeySize 2048 -WhatIf `
                -WarningAction SilentlyContinue
            [pscustomobject]@{ Csr = @(Get-ChildItem -LiteralPath $Folder -Filter '*.renewal.csr').Count }
        }
        $outcome.Csr | Should -Be 0
        Get-StoreState | Should -Be $before
    }

    It 'makes a new pending store key and a CSR with exactly the current subject; the current one keeps working' {
        $before = Get-StoreState
        $script:request = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName, $csrFolder {
            param($CommonName, $Folder)
            New-StitchRenewalRequest -CommonName $CommonName -Path $Folder -KeySize 2048 `
                -WarningAction SilentlyContinue |
                Select-Object CommonName, CurrentThumbprint, CertificatePath, CertStoreLocation, KeyPath,
                    PendingKeyPath, CsrPath, RecordPath, PublicKeySha256
        }

        $request.PSObject.Properties.Name | Should -Not -Contain 'ErrorId'
        $request.CurrentThumbprint | Should -Be $current.Thumbprint
        $request.CertificatePath | Should -Be "Cert:\CurrentUser\My\$($current.Thumbprint)"
        $request.CertStoreLocation | Should -Be 'Cert:\CurrentUser\My'
        $request.KeyPath | Should -BeNullOrEmpty
        $request.CsrPath | Should -Be (Join-Path $csrFolder "$commonName.renewal.csr")

        $csr = Read-CsrSubject -Path $request.CsrPath
        $csr.Subject | Should -Be $current.Subject
        $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($firstChain)
        $csr.PublicKey | Should -Not -Be ([Convert]::ToBase64String($leaf.PublicKey.ExportSubjectPublicKeyInfo()))

        if (-not $IsWindows) {
            $pendingFolder = Join-Path $userHome '.local/share/StitchMtls/PendingKeys'
            $request.PendingKeyPath | Should -Be (Join-Path $pendingFolder "$($request.PublicKeySha256).key")
            $request.RecordPath | Should -Be (Join-Path $pendingFolder "$($request.PublicKeySha256).renewal.json")
        }
        $record = Get-Content -LiteralPath $request.RecordPath -Raw
        $record | Should -Not -BeLike '*PRIVATE KEY*'
        ($record | ConvertFrom-Json).CurrentThumbprint | Should -Be $current.Thumbprint

        $after = (Get-StoreState) -split "`n"
        $after | Where-Object { $_ -like 'My *' -or $_ -like 'CA *' } |
            Should -Be (($before -split "`n") | Where-Object { $_ -like 'My *' -or $_ -like 'CA *' })
        $used = Test-ByCommonName
        $used.Success | Should -BeTrue -Because $used.Diagnosis
        $used.Thumbprint | Should -Be $current.Thumbprint
    }

    It 'refuses a second renewal of the same certificate while one is pending, without -Force' {
        # A terminating error: the step's runner turns it into an object with its ErrorId.
        $outcome = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $current.Thumbprint, $csrFolder {
            param($Thumbprint, $Folder)
            New-StitchRenewalRequest -Thumbprint $Thumbprint -Path $Folder -KeySize 2048 `
                -WarningAction SilentlyContinue
        }
        $outcome.ErrorId | Should -Be 'RenewalPending,StitchMtls.Commands.NewStitchRenewalRequestCommand'
    }

    It 'leaves the store as it was when the chain belongs to another key' {
        $other = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName, $csrFolder {
            param($CommonName, $Folder)
            New-StitchCsr -CommonName $CommonName -Organization 'Example Ltd' -KeySize 2048 -Path $Folder `
                -Name 'other' -CertStoreLocation 'Cert:\CurrentUser\My' -WarningAction SilentlyContinue |
                Select-Object CsrPath
        }
        $wrongChain = Invoke-TestSigningDesk -Pki $pki -CsrPath $other.CsrPath `
            -OutFile (Join-Path $TestDrive 'wrong.pem')
        $before = Get-StoreState

        $outcome = Complete-InStep -Chain $wrongChain

        $outcome.ErrorId | Should -Be 'KeyCertificateMismatch,StitchMtls.Commands.CompleteStitchRenewalCommand'
        Get-StoreState | Should -Be $before
    }

    It 'leaves the store as it was when the gateway rejects the renewed certificate' {
        $rejected = Invoke-TestSigningDesk -Pki $foreignPki -CsrPath $request.CsrPath `
            -OutFile (Join-Path $TestDrive 'foreign-signed.pem')
        $before = Get-StoreState

        $outcome = Complete-InStep -Chain $rejected

        $outcome.ErrorId | Should -Be 'RenewalTestFailed,StitchMtls.Commands.CompleteStitchRenewalCommand'
        $outcome.Message | Should -BeLike '*current certificate is unchanged*'
        Get-StoreState | Should -Be $before
        (Test-ByCommonName).Thumbprint | Should -Be $current.Thumbprint
    }

    It 'changes nothing when completing with -WhatIf' {
        $script:renewedChain = Invoke-TestSigningDesk -Pki $pki -CsrPath $request.CsrPath `
            -OutFile (Join-Path $TestDrive 'renewed.pem')
        $before = Get-StoreState
        Complete-InStep -Chain $renewedChain -Extra @{ WhatIf = $true } | Out-Null
        Get-StoreState | Should -Be $before
    }

    It 'refuses -RemovePrevious with -SkipTest before touching anything' {
        { Complete-StitchRenewal -Path $renewedChain -CertStoreLocation 'Cert:\CurrentUser\My' -SkipTest `
            -RemovePrevious } |
            Should -Throw -ErrorId 'RemovePreviousNeedsTest,StitchMtls.Commands.CompleteStitchRenewalCommand'
    }

    It 'adds and tests the renewed certificate beside the current one; -CommonName then picks it' {
        $script:completed = Complete-InStep -Chain $renewedChain

        $completed.PSObject.Properties.Name | Should -Not -Contain 'ErrorId' `
            -Because ($completed | ConvertTo-Json -Compress)
        $completed.Action | Should -Be 'Completed'
        $completed.Tested | Should -BeTrue
        $completed.PreviousThumbprint | Should -Be $current.Thumbprint
        $completed.PreviousRemoved | Should -BeFalse
        $completed.CertificatePath | Should -Be "Cert:\CurrentUser\My\$($completed.Thumbprint)"

        $state = (Get-StoreState) -split "`n"
        $state | Should -Contain "My $($current.Thumbprint) key=True"
        $state | Should -Contain "My $($completed.Thumbprint) key=True"
        $state | Where-Object { $_ -like "pending $($request.PublicKeySha256)*" } | Should -BeNullOrEmpty

        $requestsBefore = @(Get-TestGatewayRequest -Gateway $gateway).Count
        $used = Test-ByCommonName
        $used.Success | Should -BeTrue -Because $used.Diagnosis
        $used.Thumbprint | Should -Be $completed.Thumbprint
        @(Get-TestGatewayRequest -Gateway $gateway | Select-Object -Skip $requestsBefore |
            Where-Object { $_.CommonName -eq $commonName -and $_.StatusCode -lt 400 }).Count |
            Should -BeGreaterThan 0
    }

    It 'says a renewal completed twice was already completed, and changes nothing' {
        $before = Get-StoreState

        $outcome = Complete-InStep -Chain $renewedChain

        $outcome.ErrorId | Should -Be 'RenewalAlreadyCompleted,StitchMtls.Commands.CompleteStitchRenewalCommand'
        $outcome.Message | Should -BeLike "*already completed*$($completed.Thumbprint)*"
        Get-StoreState | Should -Be $before
    }

    It 'no longer reminds about the previous certificate once renewed: it is Superseded by the renewed one' {
        $scan = Get-StoreExpiry -Arguments @{ Path = 'Cert:\CurrentUser\My'; FailOnReminder = $true; PassThru = $true }

        $scan.PSObject.Properties.Name | Should -Not -Contain 'ErrorId' -Because ($scan | ConvertTo-Json -Compress)
        $previous = @($scan.Reports | Where-Object Thumbprint -EQ $current.Thumbprint)
        $previous.Count | Should -Be 1
        $previous[0].Status | Should -Be 'Superseded'
        $previous[0].SupersededBy | Should -Be $completed.Thumbprint
        $previous[0].NextReminder | Should -BeNullOrEmpty
        @($scan.Reports | Where-Object Thumbprint -EQ $completed.Thumbprint)[0].Status | Should -Be 'Ok'
        $scan.Warnings | Should -BeNullOrEmpty

        $byThumbprint = Get-StoreExpiry -Arguments @{ Thumbprint = $current.Thumbprint }
        $byThumbprint.Reports[0].Status | Should -Be 'Superseded'
    }

    It 'refuses to undo without -Force where no one can confirm, and changes nothing' {
        $before = Get-StoreState

        $outcome = Undo-InStep

        $outcome.ErrorId | Should -Be 'ConfirmationRequired,StitchMtls.Commands.UndoStitchRenewalCommand'
        $outcome.Message | Should -BeLike '*-Force*'
        Get-StoreState | Should -Be $before
    }

    It 'undoes with -WhatIf without changing anything, then by removing the renewed certificate' {
        $before = Get-StoreState
        $whatIf = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName {
            param($CommonName)
            Undo-StitchRenewal -CommonName $CommonName -WhatIf
            [pscustomobject]@{ Done = $true }
        }
        $whatIf.Done | Should -BeTrue
        Get-StoreState | Should -Be $before

        $undone = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $completed.Thumbprint {
            param($Thumbprint)
            Undo-StitchRenewal -Thumbprint $Thumbprint -Force | Select-Object Action, Thumbprint, PreviousThumbprint
        }
        $undone.Action | Should -Be 'Undone'
        $undone.Thumbprint | Should -Be $current.Thumbprint
        $undone.PreviousThumbprint | Should -Be $completed.Thumbprint
        (Get-StoreState) -split "`n" | Should -Not -Contain "My $($completed.Thumbprint) key=True"
        (Test-ByCommonName).Thumbprint | Should -Be $current.Thumbprint
    }

    It 'refuses a second undo: the original certificate was never renewed by a recorded renewal' {
        $before = Get-StoreState

        $outcome = Undo-InStep -Extra @{ Force = $true }

        $outcome.ErrorId | Should -Be 'PreviousCertificateNotFound,StitchMtls.Commands.UndoStitchRenewalCommand'
        $outcome.Message | Should -BeLike "*$($current.Thumbprint)*nothing to undo*"
        Get-StoreState | Should -Be $before
        (Test-ByCommonName).Thumbprint | Should -Be $current.Thumbprint
    }

    It 'after two renewals undoes only the last one, once, and never goes back a second generation' {
        $first = Invoke-StoreRenewal -Thumbprint $current.Thumbprint -Name 'generation2'
        $first.PSObject.Properties.Name | Should -Not -Contain 'ErrorId' -Because ($first | ConvertTo-Json -Compress)
        $second = Invoke-StoreRenewal -Thumbprint $first.Thumbprint -Name 'generation3'
        $second.PSObject.Properties.Name | Should -Not -Contain 'ErrorId' -Because ($second | ConvertTo-Json -Compress)
        $second.PreviousThumbprint | Should -Be $first.Thumbprint

        $undone = Undo-InStep -Extra @{ Confirm = $false }

        $undone.Action | Should -Be 'Undone'
        $undone.Thumbprint | Should -Be $first.Thumbprint
        $undone.PreviousThumbprint | Should -Be $second.Thumbprint
        $before = Get-StoreState
        $before -split "`n" | Should -Contain "My $($current.Thumbprint) key=True"
        $before -split "`n" | Should -Contain "My $($first.Thumbprint) key=True"
        $before -split "`n" | Where-Object { $_ -like "My $($second.Thumbprint)*" } | Should -BeNullOrEmpty

        $again = Undo-InStep -Extra @{ Force = $true }

        $again.ErrorId | Should -Be 'PreviousCertificateNotFound,StitchMtls.Commands.UndoStitchRenewalCommand'
        Get-StoreState | Should -Be $before
        (Test-ByCommonName).Thumbprint | Should -Be $first.Thumbprint
    }

    It 'with -RemovePrevious removes the previous certificate and its key once the renewed one passed' {
        $again = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $current.Thumbprint, $csrFolder {
            param($Thumbprint, $Folder)
            New-StitchRenewalRequest -Thumbprint $Thumbprint -Path $Folder -KeySize 2048 -Force `
                -WarningAction SilentlyContinue | Select-Object CsrPath
        }
        $chain = Invoke-TestSigningDesk -Pki $pki -CsrPath $again.CsrPath -OutFile (Join-Path $TestDrive 'again.pem')

        $final = Complete-InStep -Chain $chain -Extra @{ RemovePrevious = $true }

        $final.PSObject.Properties.Name | Should -Not -Contain 'ErrorId' `
            -Because ($final | ConvertTo-Json -Compress)
        $final.Tested | Should -BeTrue
        $final.PreviousRemoved | Should -BeTrue
        $state = (Get-StoreState) -split "`n"
        $state | Should -Contain "My $($final.Thumbprint) key=True"
        $state | Where-Object { $_ -like "My $($current.Thumbprint)*" } | Should -BeNullOrEmpty
        if (-not $IsWindows) {
            $storeFile = Join-Path $userHome ".dotnet/corefx/cryptography/x509stores/my/$($current.Thumbprint).pfx"
            $storeFile | Should -Not -Exist -Because 'the previous key is held in that file'
        }
        $used = Test-ByCommonName
        $used.Success | Should -BeTrue -Because $used.Diagnosis
        $used.Thumbprint | Should -Be $final.Thumbprint
    }

    It 'cannot undo after -RemovePrevious, even with an older valid certificate of the same name in the store' {
        $before = Get-StoreState
        @($before -split "`n" | Where-Object { $_ -like 'My * key=True' }).Count | Should -BeGreaterThan 1 `
            -Because 'the second generation is still there: the old Undo walked back to it'

        $outcome = Undo-InStep -Extra @{ Force = $true }

        $outcome.ErrorId | Should -Be 'PreviousCertificateNotFound,StitchMtls.Commands.UndoStitchRenewalCommand'
        $outcome.Message | Should -BeLike '*-RemovePrevious*'
        Get-StoreState | Should -Be $before
    }

    It 'reports by -CommonName the certificate -CommonName connects with, not a newer one without its key' {
        $inUse = (Test-ByCommonName).Thumbprint
        $publicOnly = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName, $csrFolder {
            param($CommonName, $Folder)
            New-StitchCsr -CommonName $CommonName -Organization 'Example Ltd' -KeySize 2048 -Path $Folder `
                -Name 'public-only' -WarningAction SilentlyContinue | Select-Object CsrPath
        }
        $keylessChain = Invoke-TestSigningDesk -Pki $pki -CsrPath $publicOnly.CsrPath `
            -OutFile (Join-Path $TestDrive 'public-only.pem')
        $keylessName = "keyless-$commonName"
        $other = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $keylessName, $csrFolder {
            param($CommonName, $Folder)
            New-StitchCsr -CommonName $CommonName -Organization 'Example Ltd' -KeySize 2048 -Path $Folder `
                -Name 'keyless-only' -WarningAction SilentlyContinue | Select-Object CsrPath
        }
        $otherChain = Invoke-TestSigningDesk -Pki $pki -CsrPath $other.CsrPath `
            -OutFile (Join-Path $TestDrive 'keyless-only.pem')
        $added = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $keylessChain, $otherChain {
            # What double-clicking the returned .cer does: the certificate alone, newer, without its key.
            param($KeylessChain, $OtherChain)
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
            $store.Open('ReadWrite')
            $thumbprints = foreach ($chain in $KeylessChain, $OtherChain) {
                $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($chain)
                $store.Add($leaf)
                $leaf.Thumbprint
            }
            $store.Close()
            [pscustomobject]@{ Keyless = $thumbprints[0]; Other = $thumbprints[1] }
        }

        $report = Get-StoreExpiry -Arguments @{ CommonName = $commonName }

        $report.Reports[0].Thumbprint | Should -Be $inUse
        $report.Reports[0].Thumbprint | Should -Not -Be $added.Keyless
        $report.Warnings | Should -BeNullOrEmpty

        $fallback = Get-StoreExpiry -Arguments @{ CommonName = $keylessName }

        $fallback.Reports[0].Thumbprint | Should -Be $added.Other
        $fallback.Warnings | Should -BeLike '*PrivateKeyMissing*newest*'
    }
}
