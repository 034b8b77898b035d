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
        # This run's certificates (by CN) with their keys, and its intermediate, out of the real stores again.
        $intermediate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem(
            (Get-Content -LiteralPath $pki.Intermediate -Raw))
        foreach ($name in 'My', 'CA') {
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new($name, 'CurrentUser')
            $store.Open('ReadWrite')
            foreach ($certificate in @($store.Certificates)) {
                if ($certificate.GetNameInfo('SimpleName', $false) -ne $commonName -and
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
            Undo-StitchRenewal -Thumbprint $Thumbprint | Select-Object Action, Thumbprint, PreviousThumbprint
        }
        $undone.Action | Should -Be 'Undone'
        $undone.Thumbprint | Should -Be $current.Thumbprint
        $undone.PreviousThumbprint | Should -Be $completed.Thumbprint
        (Get-StoreState) -split "`n" | Should -Not -Contain "My $($completed.Thumbprint) key=True"
        (Test-ByCommonName).Thumbprint | Should -Be $current.Thumbprint
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

    It 'cannot undo once the previous certificate is gone, and says why' {
        $outcome = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName {
            param($CommonName)
            Undo-StitchRenewal -CommonName $CommonName
        }
        $outcome.ErrorId | Should -Be 'PreviousCertificateNotFound,StitchMtls.Commands.UndoStitchRenewalCommand'
        $outcome.Message | Should -BeLike '*-RemovePrevious*'
    }
}
