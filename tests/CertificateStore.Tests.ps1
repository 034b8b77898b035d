# Keys and chains in the certificate store (issue 5). On Linux and macOS .NET's CurrentUser stores live under
# $HOME, so every step that touches a store runs in a child pwsh whose HOME (and XDG folders) is a fresh folder
# in $TestDrive: the developer's own store is never read or changed, and parallel runs cannot collide. A child
# process is also what "a new session finds it" means. On Windows HOME does not move the stores, so the
# certificates made here carry a random CN and are removed again in AfterAll.
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    . (Join-Path $PSScriptRoot 'common/IsolatedStore.ps1')

    function Remove-TestStoreEntry {
        # Windows only: takes this run's certificates (by CN) and its intermediate (by thumbprint) out of
        # CurrentUser\My and CA, deleting their keys.
        param([string[]] $CommonName, [string] $IntermediateThumbprint)
        foreach ($name in 'My', 'CA') {
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new($name, 'CurrentUser')
            $store.Open('ReadWrite')
            try {
                foreach ($certificate in @($store.Certificates)) {
                    if ($certificate.GetNameInfo('SimpleName', $false) -notin $CommonName -and
                        $certificate.Thumbprint -ne $IntermediateThumbprint) { continue }
                    if ($certificate.HasPrivateKey) {
                        $key = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::
                            GetRSAPrivateKey($certificate)
                        if ($key -is [System.Security.Cryptography.RSACng]) { $key.Key.Delete() }
                    }
                    $store.Remove($certificate)
                }
            }
            finally {
                $store.Close()
            }
        }
    }

    $suffix = [guid]::NewGuid().ToString('N').Substring(0, 8)
    $commonName = "stitch-store-$suffix.example.com"
    $keylessName = "stitch-keyless-$suffix.example.com"
    $userHome = Join-Path $TestDrive 'home'
    New-Item -ItemType Directory -Path $userHome | Out-Null
    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $gateway = Start-TestGateway -Pki $pki -AllowedCommonName $commonName
}

AfterAll {
    Stop-TestGateway -Gateway $gateway
    if ($IsWindows) {
        $intermediate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem(
            (Get-Content -LiteralPath $pki.Intermediate -Raw))
        Remove-TestStoreEntry -CommonName $commonName, $keylessName -IntermediateThumbprint $intermediate.Thumbprint
    }
}

Describe 'A key made for the store, signed, imported and used from a new process' {
    BeforeAll {
        $csrFolder = Join-Path $TestDrive 'csr'
        New-Item -ItemType Directory -Path $csrFolder | Out-Null

        $csr = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName, $csrFolder {
            param($CommonName, $Folder)
            $csr = New-StitchCsr -CommonName $CommonName -Organization 'Example Ltd' -KeySize 2048 -Path $Folder `
                -Name 'store' -CertStoreLocation 'Cert:\CurrentUser\My' -WarningAction SilentlyContinue
            $mode = if ($csr.KeyPath) { [string](Get-Item -LiteralPath $csr.KeyPath).UnixFileMode } else { $null }
            $csr | Select-Object CsrPath, KeyPath, PublicKeySha256, CertStoreLocation, KeyContainer,
                @{ Name = 'KeyProtection'; Expression = { [string]$_.KeyProtection } },
                @{ Name = 'PendingKeyMode'; Expression = { $mode } }
        }
        $signed = Invoke-TestSigningDesk -Pki $pki -CsrPath $csr.CsrPath -OutFile (Join-Path $TestDrive 'signed.pem')

        $imported = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $signed {
            param($Chain)
            Import-StitchChain -Path $Chain -CertStoreLocation 'Cert:\CurrentUser\My' |
                Select-Object Thumbprint, StorePath, FriendlyName, CommonName, ChainPath, NotAfter
        }
    }

    It 'writes the CSR as a file and no key file beside it' {
        $csr.CsrPath | Should -Exist
        Join-Path $csrFolder 'store.key' | Should -Not -Exist
        $csr.CertStoreLocation | Should -Be 'Cert:\CurrentUser\My'
    }

    It 'keeps the pending key owner-only under the user''s profile until the chain arrives (Linux, macOS)' {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'on Windows the pending key is a persisted CNG key, tested below'
            return
        }
        $pendingFolder = Join-Path $userHome '.local/share/StitchMtls/PendingKeys'
        $csr.KeyPath | Should -Be (Join-Path $pendingFolder "$($csr.PublicKeySha256).key")
        $csr.PendingKeyMode | Should -Be ([string][System.IO.UnixFileMode]'UserRead, UserWrite')
        $csr.KeyProtection | Should -Be 'Plain'
        $csr.KeyPath | Should -Not -Exist -Because 'the key is held with its certificate after the import'
    }

    It 'reports the store path, thumbprint and friendly name of the imported certificate' {
        $imported.PSObject.Properties.Name | Should -Not -Contain 'ErrorId' -Because 'the import must succeed'

        $imported.Thumbprint | Should -Match '^[0-9A-F]{40}$'
        $imported.StorePath | Should -Be "Cert:\CurrentUser\My\$($imported.Thumbprint)"
        $expires = ([datetime]$imported.NotAfter).ToUniversalTime().ToString('yyyy-MM-dd')
        if ($IsWindows) {
            $imported.FriendlyName | Should -Be "Stitch mTLS $commonName (expires $expires)"
        }
        else {
            $imported.FriendlyName | Should -BeNullOrEmpty -Because '.NET stores outside Windows keep no friendly name'
        }
        $imported.ChainPath | Should -BeNullOrEmpty
    }

    It 'returns the existing entry when the same chain is imported again; -Force without a key says why' {
        $again = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $signed {
            param($Chain)
            $output = Import-StitchChain -Path $Chain -CertStoreLocation 'Cert:\CurrentUser\My' -Verbose 4>&1
            $verbose = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join ' '
            $entry = @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
            $forced = try {
                Import-StitchChain -Path $Chain -CertStoreLocation 'Cert:\CurrentUser\My' -Force -ErrorAction Stop |
                    Out-Null
                ''
            }
            catch {
                $_.FullyQualifiedErrorId + ' ' + $_.Exception.Message
            }
            [pscustomobject]@{
                Count      = $entry.Count
                Thumbprint = if ($entry.Count) { $entry[0].Thumbprint } else { '' }
                StorePath  = if ($entry.Count) { $entry[0].StorePath } else { '' }
                Verbose    = $verbose
                Forced     = $forced
            }
        }

        $again.PSObject.Properties.Name | Should -Not -Contain 'ErrorId' -Because 'a second import is not an error'
        $again.Count | Should -Be 1
        $again.Thumbprint | Should -Be $imported.Thumbprint
        $again.StorePath | Should -Be $imported.StorePath
        $again.Verbose | Should -BeLike '*already in*with its private key; nothing was written*'
        $again.Forced | Should -BeLike 'PendingKeyNotFound,StitchMtls.Commands.ImportStitchChainCommand *already in*'
        $again.Forced | Should -Not -BeLike '*AmbiguousParameterSet*'
    }

    It 'is found by -CommonName in a new pwsh process, with its private key, and connects using only the store' {
        $found = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName, $gateway.Uri, $pki.Root {
            param($CommonName, $Uri, $ServerCa)
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
            $store.Open('ReadOnly')
            $inStore = @($store.Certificates | Where-Object { $_.GetNameInfo('SimpleName', $false) -eq $CommonName })
            $result = Test-StitchMtls -Endpoint $Uri -CommonName $CommonName -ServerCertificateAuthority $ServerCa `
                -NoProxy -WarningAction SilentlyContinue
            [pscustomobject]@{
                HasPrivateKey = $inStore[0].HasPrivateKey
                Success       = $result.Success
                Diagnosis     = $result.Diagnosis
                Thumbprint    = $result.ClientCertificateThumbprint
            }
        }

        $found.HasPrivateKey | Should -BeTrue
        $found.Success | Should -BeTrue -Because $found.Diagnosis
        $found.Thumbprint | Should -Be $imported.Thumbprint
        @(Get-TestGatewayRequest -Gateway $gateway).Count | Should -BeGreaterThan 0
    }

    It 'takes the certificate as -Thumbprint, as a Cert:\ path, and from the pipeline' {
        $results = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $imported.Thumbprint, $gateway.Uri, $pki.Root {
            param($Thumbprint, $Uri, $ServerCa)
            $common = @{ Endpoint = $Uri; ServerCertificateAuthority = $ServerCa; NoProxy = $true; Quiet = $true }
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
            $store.Open('ReadOnly')
            [pscustomobject]@{
                Thumbprint = Test-StitchMtls -Thumbprint $Thumbprint.ToLower() @common
                CertPath   = Test-StitchMtls -Certificate "Cert:\CurrentUser\My\$Thumbprint" @common
                Pipeline   = $store.Certificates.Find('FindByThumbprint', $Thumbprint, $false) | Test-StitchMtls @common
                PathPiped  = "Cert:\CurrentUser\My\$Thumbprint" | Test-StitchMtls @common
            }
        }

        $results.Thumbprint | Should -BeTrue
        $results.CertPath | Should -BeTrue
        $results.Pipeline | Should -BeTrue
        $results.PathPiped | Should -BeTrue
    }

    It 'reports -Thumbprint of a store certificate without its key as PrivateKeyMissing' {
        $keyless = New-TestClientCertificate -Pki $pki -CommonName $keylessName -OutDir (Join-Path $TestDrive 'keyless')
        $outcome = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $keyless.LeafPath, $gateway.Uri, $pki.Root {
            param($LeafPath, $Uri, $ServerCa)
            $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem(
                (Get-Content -LiteralPath $LeafPath -Raw))
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
            $store.Open('ReadWrite')
            $store.Add($leaf)
            $store.Close()
            $result = Test-StitchMtls -Endpoint $Uri -Thumbprint $leaf.Thumbprint -NoProxy `
                -ServerCertificateAuthority $ServerCa -WarningAction SilentlyContinue
            $byName = try {
                Test-StitchMtls -Endpoint $Uri -CommonName $leaf.GetNameInfo('SimpleName', $false) -NoProxy
            }
            catch {
                $_.FullyQualifiedErrorId
            }
            $expiry = Get-StitchCertExpiry -Thumbprint $leaf.Thumbprint
            [pscustomobject]@{
                FailedStage  = [string]$result.FailedStage
                DiagnosisId  = [string]$result.DiagnosisId
                ByName       = $byName
                ExpiryStatus = $expiry.Status
                ExpiryPath   = $expiry.Path
                Thumbprint   = $leaf.Thumbprint
            }
        }

        $outcome.FailedStage | Should -Be 'PreFlight'
        $outcome.DiagnosisId | Should -Be 'PrivateKeyMissing'
        $outcome.ByName | Should -Be 'PrivateKeyMissing,StitchMtls.Commands.TestStitchMtlsCommand'
        $outcome.ExpiryStatus | Should -Be 'Ok' -Because 'Get-StitchCertExpiry needs no key'
        $outcome.ExpiryPath | Should -Be "Cert:\CurrentUser\My\$($outcome.Thumbprint)"
    }

    It 'exports the store certificate with its key and intermediate as PKCS#12' {
        $pfxPath = Join-Path $TestDrive 'exported.pfx'
        $export = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $imported.Thumbprint, $pfxPath {
            param($Thumbprint, $PfxPath)
            $password = ConvertTo-SecureString 'export-pass' -AsPlainText -Force
            Export-StitchCertificate -Thumbprint $Thumbprint -PfxPath $PfxPath -PfxPassword $password |
                Select-Object Thumbprint, PfxPath, CertificateCount
        }

        $export.CertificateCount | Should -Be 2
        $collection = [System.Security.Cryptography.X509Certificates.X509Certificate2Collection]::new()
        $collection.Import($pfxPath, 'export-pass', 'EphemeralKeySet')
        @($collection | Where-Object HasPrivateKey).Thumbprint | Should -Be $imported.Thumbprint
        $collection.Count | Should -Be 2
        if (-not $IsWindows) {
            (Get-Item -LiteralPath $pfxPath).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        }
    }

    It 'picks the renewed certificate by -CommonName, so a runbook needs no edit after renewal' {
        $renewal = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $commonName, $csrFolder {
            param($CommonName, $Folder)
            New-StitchCsr -CommonName $CommonName -Organization 'Example Ltd' -KeySize 2048 -Path $Folder `
                -Name 'renewal' -CertStoreLocation 'Cert:\CurrentUser\My' -WarningAction SilentlyContinue |
                Select-Object CsrPath
        }
        # A longer validity as well, so the renewal is the newer one even within the same second.
        $renewedChain = Invoke-TestSigningDesk -Pki $pki -CsrPath $renewal.CsrPath -Days 400 `
            -OutFile (Join-Path $TestDrive 'renewed.pem')

        $arguments = $renewedChain, $commonName, $gateway.Uri, $pki.Root
        $after = Invoke-IsolatedStep -UserHome $userHome -ArgumentList $arguments {
            param($Chain, $CommonName, $Uri, $ServerCa)
            $renewed = Import-StitchChain -Path $Chain -CertStoreLocation 'Cert:\CurrentUser\My'
            $result = Test-StitchMtls -Endpoint $Uri -CommonName $CommonName -ServerCertificateAuthority $ServerCa `
                -NoProxy
            [pscustomobject]@{ Renewed = $renewed.Thumbprint; Used = $result.ClientCertificateThumbprint }
        }

        $after.Renewed | Should -Not -Be $imported.Thumbprint
        $after.Used | Should -Be $after.Renewed
    }
}

Describe 'Store sources that cannot work are refused before anything is touched' {
    It '<Command> refuses Cert:\LocalMachine\My outside Windows with PlatformNotSupported' -TestCases @(
        @{ Command = 'New-StitchCsr' }
        @{ Command = 'Import-StitchChain' }
        @{ Command = 'Test-StitchMtls' }
        @{ Command = 'Get-StitchCertExpiry' }
        @{ Command = 'Export-StitchCertificate' }
    ) {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'Windows has a LocalMachine store; tested in the Windows block below'
            return
        }
        $folder = Join-Path $TestDrive "lm-$Command"
        New-Item -ItemType Directory -Path $folder | Out-Null
        $location = 'Cert:\LocalMachine\My'
        $thumbprint = '3F2A9C0E5B7D41A8C6E2F09B1D4A7C3E8F5B2D61'
        $call = switch ($Command) {
            'New-StitchCsr' {
                { New-StitchCsr -CommonName stitch-test.example.com -Organization 'Example Ltd' -KeySize 2048 `
                    -Path $folder -CertStoreLocation $location -WarningAction SilentlyContinue -ErrorAction Stop }
            }
            'Import-StitchChain' {
                { Import-StitchChain -Path $pki.Root -CertStoreLocation $location -ErrorAction Stop }
            }
            'Test-StitchMtls' {
                { Test-StitchMtls -Endpoint $gateway.Uri -CommonName x -CertStoreLocation $location -NoProxy `
                    -ErrorAction Stop }
            }
            'Get-StitchCertExpiry' {
                { Get-StitchCertExpiry -Thumbprint $thumbprint -CertStoreLocation $location -ErrorAction Stop }
            }
            'Export-StitchCertificate' {
                { Export-StitchCertificate -Thumbprint $thumbprint -PfxPath (Join-Path $folder 'x.pfx') `
                    -PfxPassword (ConvertTo-SecureString 'p' -AsPlainText -Force) -CertStoreLocation $location `
                    -ErrorAction Stop }
            }
        }
        $commandType = (Get-Command $Command).ImplementingType.FullName

        $call | Should -Throw -ErrorId "PlatformNotSupported,$commandType"
        @(Get-ChildItem -LiteralPath $folder).Count | Should -Be 0
    }

    It 'refuses Grant-StitchKeyAccess outside Windows with PlatformNotSupported' {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'Grant-StitchKeyAccess works on Windows; tested in the Windows block below'
            return
        }
        $thumbprint = '3F2A9C0E5B7D41A8C6E2F09B1D4A7C3E8F5B2D61'
        { Grant-StitchKeyAccess -Thumbprint $thumbprint -Account someone -Confirm:$false } |
            Should -Throw -ErrorId 'PlatformNotSupported,StitchMtls.Commands.GrantStitchKeyAccessCommand'
    }

    It 'refuses <Case> with <Id>' -TestCases @(
        @{ Case = 'a store path that is not Cert:\'; Location = 'C:\certs'; Thumbprint = 'AB' * 20
            Id = 'CertStorePathInvalid' }
        @{ Case = 'a store location with a thumbprint'; Location = "Cert:\CurrentUser\My\$('AB' * 20)"
            Thumbprint = 'AB' * 20; Id = 'CertStorePathInvalid' }
        @{ Case = 'a thumbprint that is not hex'; Location = 'Cert:\CurrentUser\My'; Thumbprint = 'stitch-prod'
            Id = 'ThumbprintInvalid' }
    ) {
        { Test-StitchMtls -Endpoint $gateway.Uri -Thumbprint $Thumbprint -CertStoreLocation $Location -NoProxy `
            -ErrorAction Stop } | Should -Throw -ErrorId "$Id,StitchMtls.Commands.TestStitchMtlsCommand"
    }

    It 'says a Cert:\ path given to -Certificate must name a certificate, not a store' {
        $errorId = 'CertStorePathInvalid,StitchMtls.Commands.TestStitchMtlsCommand'
        $failure = { Test-StitchMtls -Endpoint $gateway.Uri -Certificate 'Cert:\CurrentUser\My' -NoProxy `
            -ErrorAction Stop } | Should -Throw -ErrorId $errorId -PassThru
        $failure.Exception.Message | Should -BeLike '*names a certificate store, not a certificate*-CommonName*'
    }

    It 'writes nothing with -WhatIf' {
        $folder = Join-Path $TestDrive 'whatif'
        New-Item -ItemType Directory -Path $folder | Out-Null
        New-StitchCsr -CommonName stitch-test.example.com -Organization 'Example Ltd' -Path $folder `
            -CertStoreLocation 'Cert:\CurrentUser\My' -WhatIf -WarningAction SilentlyContinue
        @(Get-ChildItem -LiteralPath $folder).Count | Should -Be 0
    }
}

Describe 'Store paths keep the module''s ErrorIds, and only the personal store takes client certificates' {
    BeforeAll {
        # One child pwsh with a fresh store tries every case; the rows below assert on what it reports.
        $reviewHome = Join-Path $TestDrive 'home-review'
        $reviewFolder = Join-Path $TestDrive 'review'
        New-Item -ItemType Directory -Path $reviewHome, $reviewFolder | Out-Null
        $issued = @{
            File    = New-TestClientCertificate -Pki $pki -CommonName "stitch-file-$suffix.example.com" -Name file `
                -OutDir (Join-Path $reviewFolder 'file')
            Future  = New-TestClientCertificate -Pki $pki -CommonName "stitch-future-$suffix.example.com" `
                -Name future -ValidFromDays 5 -OutDir (Join-Path $reviewFolder 'future')
            Expired = New-TestClientCertificate -Pki $pki -CommonName "stitch-mixed-$suffix.example.com" `
                -Name expired -ExpiresInDays -5 -OutDir (Join-Path $reviewFolder 'expired')
            Later   = New-TestClientCertificate -Pki $pki -CommonName "stitch-mixed-$suffix.example.com" `
                -Name later -ValidFromDays 5 -OutDir (Join-Path $reviewFolder 'later')
        }
        $arguments = $reviewFolder, $gateway.Uri, ($issued | ConvertTo-Json -Depth 3), $IsWindows
        $script:review = Invoke-IsolatedStep -UserHome $reviewHome -ArgumentList $arguments {
            param($Folder, $Uri, $IssuedJson, $OnWindows)
            $issued = $IssuedJson | ConvertFrom-Json
            $missing = '0' * 40
            $password = ConvertTo-SecureString 'p' -AsPlainText -Force
            $calls = [ordered]@{
                NewCsrRoot   = { New-StitchCsr -CommonName stitch-root.example.com -Organization 'Example Ltd' `
                    -KeySize 2048 -Path $Folder -Name root -CertStoreLocation 'Cert:\CurrentUser\Root' }
                NewCsrFoo    = { New-StitchCsr -CommonName stitch-foo.example.com -Organization 'Example Ltd' `
                    -KeySize 2048 -Path $Folder -Name foo -CertStoreLocation 'Cert:\CurrentUser\Foo' }
                ImportRoot   = { Import-StitchChain -Path $issued.File.ChainPath -KeyPath $issued.File.KeyPath `
                    -CertStoreLocation 'Cert:\CurrentUser\Root' }
                TestRoot     = { Test-StitchMtls -Endpoint $Uri -CommonName x -NoProxy `
                    -CertStoreLocation 'Cert:\CurrentUser\Root' }
                ExpiryRoot   = { Get-StitchCertExpiry -CommonName x -CertStoreLocation 'Cert:\CurrentUser\Root' }
                ExportRoot   = { Export-StitchCertificate -Thumbprint $missing -PfxPath (Join-Path $Folder 'x.pfx') `
                    -PfxPassword $password -CertStoreLocation 'Cert:\CurrentUser\Root' }
                RemoveRoot   = { Remove-StitchCertificate -Thumbprint $missing -Force `
                    -CertStoreLocation 'Cert:\CurrentUser\Root' }
                CertMissing  = { Test-StitchMtls -Endpoint $Uri -Certificate "Cert:\CurrentUser\My\$missing" -NoProxy }
                CertPiped    = { "Cert:\CurrentUser\My\$missing" | Test-StitchMtls -Endpoint $Uri -NoProxy }
                CertMachine  = {
                    Test-StitchMtls -Endpoint $Uri -Certificate "Cert:\LocalMachine\My\$missing" -NoProxy
                }
                CertStore    = { Test-StitchMtls -Endpoint $Uri -Certificate 'Cert:\CurrentUser\My' -NoProxy }
                CertLocation = { Test-StitchMtls -Endpoint $Uri -Certificate 'Cert:\CurrentUser' -NoProxy }
                CertRoot     = {
                    Test-StitchMtls -Endpoint $Uri -Certificate "Cert:\CurrentUser\Root\$missing" -NoProxy
                }
                TokenMissing = { Get-StitchAccessToken -Certificate "Cert:\CurrentUser\My\$missing" -NoProxy `
                    -Credential ([pscredential]::new('id', $password)) }
                Sha256       = { Test-StitchMtls -Endpoint $Uri -Thumbprint ('0' * 64) -NoProxy }
                Future       = { Test-StitchMtls -Endpoint $Uri -CommonName $issued.Future.CommonName -NoProxy }
                Mixed        = { Test-StitchMtls -Endpoint $Uri -CommonName $issued.Later.CommonName -NoProxy }
                FileTwice    = {
                    $first = Import-StitchChain -Path $issued.File.ChainPath -KeyPath $issued.File.KeyPath `
                        -CertStoreLocation 'Cert:\CurrentUser\My'
                    $second = Import-StitchChain -Path $issued.File.ChainPath -KeyPath $issued.File.KeyPath `
                        -CertStoreLocation 'Cert:\CurrentUser\My' -Verbose 4>&1
                    $forced = Import-StitchChain -Path $issued.File.ChainPath -KeyPath $issued.File.KeyPath `
                        -CertStoreLocation 'Cert:\CurrentUser\My' -Force
                    $entry = @($second | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
                    $verbose = @($second | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
                    if ($entry.Count -ne 1 -or $entry[0].Thumbprint -ne $first.Thumbprint -or
                        $forced.Thumbprint -ne $first.Thumbprint -or ($verbose -join ' ') -notlike '*already in*') {
                        throw "second import: $($entry.Count) entries, verbose '$($verbose -join ' ')'"
                    }
                }
            }
            $ErrorActionPreference = 'Stop'
            $WarningPreference = 'SilentlyContinue'
            if ($OnWindows) {
                $calls.Remove('FileTwice')
            }
            else {
                # The child's HOME is private, so these go to a throw-away store; on Windows it would be the user's.
                $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
                $store.Open('ReadWrite')
                foreach ($name in 'Future', 'Expired', 'Later') {
                    $store.Add([System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile(
                        $issued.$name.LeafPath, $issued.$name.KeyPath))
                }
                $store.Close()
            }
            $outcome = [ordered]@{}
            foreach ($case in $calls.Keys) {
                $outcome[$case] = try {
                    & $calls[$case] | Out-Null
                    @{ Id = ''; Category = ''; Message = '' }
                }
                catch {
                    @{ Id = $_.FullyQualifiedErrorId; Category = [string]$_.CategoryInfo.Category
                        Message = $_.Exception.Message }
                }
            }
            $storeRoot = Join-Path $HOME '.dotnet/corefx/cryptography/x509stores'
            $outcome['Stores'] = (Get-ChildItem -LiteralPath $storeRoot -Directory -ErrorAction Ignore |
                ForEach-Object Name) -join ','
            $outcome['Written'] = (Get-ChildItem -LiteralPath $Folder -File | ForEach-Object Name) -join ','
            $pendingFolder = Join-Path $HOME '.local/share/StitchMtls/PendingKeys'
            $outcome['Pending'] = @(Get-ChildItem -LiteralPath $pendingFolder -File -ErrorAction Ignore).Count
            [pscustomobject]$outcome
        }
    }

    It '<Case> refuses a store other than My with CertStorePathInvalid, before any key or file is made' -TestCases @(
        @{ Case = 'NewCsrRoot'; Command = 'NewStitchCsrCommand' }
        @{ Case = 'NewCsrFoo'; Command = 'NewStitchCsrCommand' }
        @{ Case = 'ImportRoot'; Command = 'ImportStitchChainCommand' }
        @{ Case = 'TestRoot'; Command = 'TestStitchMtlsCommand' }
        @{ Case = 'ExpiryRoot'; Command = 'GetStitchCertExpiryCommand' }
        @{ Case = 'ExportRoot'; Command = 'ExportStitchCertificateCommand' }
        @{ Case = 'RemoveRoot'; Command = 'RemoveStitchCertificateCommand' }
    ) {
        $review.PSObject.Properties.Name | Should -Not -Contain 'ErrorId' -Because ($review | Out-String)
        $review.$Case.Id | Should -Be "CertStorePathInvalid,StitchMtls.Commands.$Command"
        $review.$Case.Category | Should -Be 'InvalidArgument'
        $review.$Case.Message | Should -BeLike '*Cert:\CurrentUser\My or Cert:\LocalMachine\My only*'
    }

    It 'creates no Root or Foo store, no CSR and no pending key for the refused calls' {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'on Windows the stores are the system''s, not files under HOME'
            return
        }
        $review.Stores -split ',' | Should -Not -Contain 'root'
        $review.Stores -split ',' | Should -Not -Contain 'foo'
        $review.Written | Should -BeNullOrEmpty
        $review.Pending | Should -Be 0
    }

    It '-Certificate <Case> keeps the ErrorId <Id> (<Category>)' -TestCases @(
        @{ Case = 'CertMissing'; Id = 'CertificateNotFound'; Category = 'ObjectNotFound'; Command = 'TestStitchMtls' }
        @{ Case = 'CertPiped'; Id = 'CertificateNotFound'; Category = 'ObjectNotFound'; Command = 'TestStitchMtls' }
        @{ Case = 'CertMachine'; Id = 'PlatformNotSupported'; Category = 'InvalidOperation'
            Command = 'TestStitchMtls' }
        @{ Case = 'CertStore'; Id = 'CertStorePathInvalid'; Category = 'InvalidArgument'; Command = 'TestStitchMtls' }
        @{ Case = 'CertLocation'; Id = 'CertStorePathInvalid'; Category = 'InvalidArgument'
            Command = 'TestStitchMtls' }
        @{ Case = 'CertRoot'; Id = 'CertStorePathInvalid'; Category = 'InvalidArgument'; Command = 'TestStitchMtls' }
        @{ Case = 'TokenMissing'; Id = 'CertificateNotFound'; Category = 'ObjectNotFound'
            Command = 'GetStitchAccessToken' }
    ) {
        if ($IsWindows -and $Case -eq 'CertMachine') {
            Set-ItResult -Skipped -Because 'Windows has a LocalMachine store'
            return
        }
        $review.$Case.Id | Should -Be "$Id,StitchMtls.Commands.$($Command)Command"
        $review.$Case.Category | Should -Be $Category
    }

    It 'names a 64-digit thumbprint as a SHA-256 fingerprint (ThumbprintInvalid)' {
        $review.Sha256.Id | Should -Be 'ThumbprintInvalid,StitchMtls.Commands.TestStitchMtlsCommand'
        $review.Sha256.Message | Should -BeLike '*SHA-256*'
    }

    It '-CommonName with <Case> certificates gives <Id> with advice about <Advice>' -TestCases @(
        @{ Case = 'Future'; Id = 'CertificateNotYetValid'; Advice = '*clock*' }
        @{ Case = 'Mixed'; Id = 'CertificateNotYetValid'; Advice = '*1 expired*clock*' }
    ) {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'the store is the user''s own on Windows; unit tests cover the rule'
            return
        }
        $review.$Case.Id | Should -Be "$Id,StitchMtls.Commands.TestStitchMtlsCommand"
        $review.$Case.Message | Should -BeLike $Advice
        $review.$Case.Message | Should -Not -BeLike '*Import the renewed*'
    }

    It 'imports the same chain with -KeyPath twice as the existing entry, and -Force adds it again' {
        if ($IsWindows) {
            Set-ItResult -Skipped -Because 'the child''s store is the user''s own on Windows'
            return
        }
        $review.FileTwice.Id | Should -BeNullOrEmpty -Because $review.FileTwice.Message
    }
}

Describe 'Windows certificate store' {
    BeforeAll {
        function Test-Elevated {
            $identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
            ([System.Security.Principal.WindowsPrincipal]$identity).IsInRole(
                [System.Security.Principal.WindowsBuiltInRole]::Administrator)
        }

        function New-WindowsStoreCertificate {
            # New-StitchCsr into the store, signed by the test PKI, imported: returns the import's output.
            param([string] $CommonName, [string] $Location = 'Cert:\CurrentUser\My', [hashtable] $Extra = @{})
            $folder = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
            New-Item -ItemType Directory -Path $folder | Out-Null
            $csr = New-StitchCsr -CommonName $CommonName -Organization 'Example Ltd' -KeySize 2048 -Path $folder `
                -CertStoreLocation $Location -WarningAction SilentlyContinue @Extra
            $chain = Invoke-TestSigningDesk -Pki $pki -CsrPath $csr.CsrPath -OutFile (Join-Path $folder 'chain.pem')
            Import-StitchChain -Path $chain -CertStoreLocation $Location
        }

        $windowsName = "stitch-win-$suffix.example.com"
        $script:madeOnWindows = [System.Collections.Generic.List[object]]::new()
    }

    AfterAll {
        if ($IsWindows) {
            Remove-TestStoreEntry -CommonName $windowsName
            foreach ($made in $madeOnWindows) {
                $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'LocalMachine')
                $store.Open('ReadWrite')
                $store.Certificates.Find('FindByThumbprint', $made, $false) | ForEach-Object { $store.Remove($_) }
                $store.Close()
            }
        }
    }

    It 'creates a non-exportable CNG key that Export-StitchCertificate refuses with KeyNotExportable' {
        if (-not $IsWindows) {
            Set-ItResult -Skipped -Because 'CNG keys exist only on Windows'
            return
        }
        $imported = New-WindowsStoreCertificate -CommonName $windowsName
        $certificate = Get-Item "Cert:\CurrentUser\My\$($imported.Thumbprint)"
        $key = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($certificate)

        $key | Should -BeOfType [System.Security.Cryptography.RSACng]
        $key.Key.ExportPolicy | Should -Be ([System.Security.Cryptography.CngExportPolicies]::None)
        $certificate.FriendlyName | Should -BeLike "Stitch mTLS $windowsName (expires *)"
        { Export-StitchCertificate -Thumbprint $imported.Thumbprint -PfxPath (Join-Path $TestDrive 'no.pfx') `
            -PfxPassword (ConvertTo-SecureString 'p' -AsPlainText -Force) -ErrorAction Stop } |
            Should -Throw -ErrorId 'KeyNotExportable,StitchMtls.Commands.ExportStitchCertificateCommand'
    }

    It 'puts the intermediate into the CA store and never the private root into the trusted roots' {
        if (-not $IsWindows) {
            Set-ItResult -Skipped -Because 'the Windows CA and Root stores exist only on Windows'
            return
        }
        $imported = New-WindowsStoreCertificate -CommonName $windowsName
        $intermediate = Get-PfxCertificate -FilePath $pki.Intermediate
        $root = Get-PfxCertificate -FilePath $pki.Root

        Test-Path "Cert:\CurrentUser\CA\$($intermediate.Thumbprint)" | Should -BeTrue
        Test-Path "Cert:\CurrentUser\Root\$($root.Thumbprint)" | Should -BeFalse
        Test-Path "Cert:\LocalMachine\Root\$($root.Thumbprint)" | Should -BeFalse
        (Get-Item "Cert:\CurrentUser\My\$($imported.Thumbprint)").HasPrivateKey | Should -BeTrue
    }

    It 'creates the key in the TPM with -KeyStorageProvider when the machine has one' {
        if (-not $IsWindows) {
            Set-ItResult -Skipped -Because 'the Microsoft Platform Crypto Provider (TPM) exists only on Windows'
            return
        }
        $tpm = Get-CimInstance -Namespace root/cimv2/Security/MicrosoftTpm -ClassName Win32_Tpm -ErrorAction Ignore
        if (-not $tpm) {
            Set-ItResult -Skipped -Because 'this machine has no TPM'
            return
        }
        $imported = New-WindowsStoreCertificate -CommonName $windowsName `
            -Extra @{ KeyStorageProvider = 'Microsoft Platform Crypto Provider' }
        $certificate = Get-Item "Cert:\CurrentUser\My\$($imported.Thumbprint)"
        $key = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($certificate)

        $key.Key.Provider.Provider | Should -Be 'Microsoft Platform Crypto Provider'
    }

    It 'needs elevation for Cert:\LocalMachine\My and says so; elevated, the key is bound for a new process' {
        if (-not $IsWindows) {
            Set-ItResult -Skipped -Because 'the LocalMachine store is writable only on Windows'
            return
        }
        if (-not (Test-Elevated)) {
            { New-StitchCsr -CommonName $windowsName -Organization 'Example Ltd' -Path $TestDrive `
                -CertStoreLocation 'Cert:\LocalMachine\My' -ErrorAction Stop -WarningAction SilentlyContinue } |
                Should -Throw -ErrorId 'ElevationRequired,StitchMtls.Commands.NewStitchCsrCommand'
            return
        }
        $imported = New-WindowsStoreCertificate -CommonName $windowsName -Location 'Cert:\LocalMachine\My'
        $madeOnWindows.Add($imported.Thumbprint)
        $hasKey = & pwsh -NoProfile -Command "(Get-Item 'Cert:\LocalMachine\My\$($imported.Thumbprint)').HasPrivateKey"

        $hasKey | Should -Be 'True'
    }

    It 'grants NETWORK SERVICE read access to the CNG key with Grant-StitchKeyAccess' {
        if (-not $IsWindows) {
            Set-ItResult -Skipped -Because 'key access lists exist only on Windows'
            return
        }
        $imported = New-WindowsStoreCertificate -CommonName $windowsName
        $granted = Grant-StitchKeyAccess -Thumbprint $imported.Thumbprint -Account 'NT AUTHORITY\NETWORK SERVICE' `
            -Confirm:$false
        $certificate = Get-Item "Cert:\CurrentUser\My\$($imported.Thumbprint)"
        $key = [System.Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPrivateKey($certificate)
        $descriptor = $key.Key.GetProperty('Security Descr', [System.Security.Cryptography.CngPropertyOptions]4)
        $sddl = [System.Security.AccessControl.RawSecurityDescriptor]::new($descriptor.GetValue(), 0).
            GetSddlForm('Access')

        $granted.KeyKind | Should -Be 'CNG'
        $sddl | Should -BeLike '*;;;NS)*' -Because 'NS is NETWORK SERVICE (S-1-5-20) in SDDL'
    }

    It 'tells a scheduled task''s account without key access PrivateKeyAccessDenied, not a TLS failure' {
        if (-not $IsWindows) {
            Set-ItResult -Skipped -Because 'scheduled tasks and key access lists exist only on Windows'
            return
        }
        if (-not (Test-Elevated)) {
            Set-ItResult -Skipped -Because 'registering a task as LOCAL SERVICE needs an elevated session'
            return
        }
        $pwsh = Get-Command pwsh -CommandType Application -ErrorAction Ignore | Select-Object -First 1
        if (-not $pwsh) {
            Set-ItResult -Skipped -Because 'the task needs pwsh.exe on PATH'
            return
        }
        $imported = New-WindowsStoreCertificate -CommonName $windowsName -Location 'Cert:\LocalMachine\My'
        $madeOnWindows.Add($imported.Thumbprint)
        # LOCAL SERVICE cannot read this user's profile, where $TestDrive is: give it its own copy of the module.
        $shared = Join-Path $env:ProgramData "StitchMtls-test-$suffix"
        Copy-Item -LiteralPath (Split-Path $ModuleManifest) -Destination (Join-Path $shared 'StitchMtls') -Recurse
        $sharedManifest = Join-Path $shared 'StitchMtls/StitchMtls.psd1'
        $outFile = Join-Path $shared 'outcome.txt'
        $command = "try { Import-Module '$sharedManifest'; Test-StitchMtls -Endpoint '$($gateway.Uri)' " +
            "-Thumbprint $($imported.Thumbprint) -CertStoreLocation Cert:\LocalMachine\My -NoProxy -ErrorAction Stop " +
            "} catch { `$_.FullyQualifiedErrorId + ' ' + `$_.Exception.Message | Set-Content '$outFile' }"
        $action = New-ScheduledTaskAction -Execute $pwsh.Source `
            -Argument "-NoProfile -NonInteractive -Command `"$command`""
        $taskName = "StitchMtls-test-$suffix"
        Register-ScheduledTask -TaskName $taskName -Action $action -User 'NT AUTHORITY\LOCAL SERVICE' | Out-Null
        try {
            Start-ScheduledTask -TaskName $taskName
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while (-not (Test-Path $outFile) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 500 }
            $reported = Get-Content -LiteralPath $outFile -Raw
        }
        finally {
            Unregister-ScheduledTask -TaskName $taskName -Confirm:$false
            Remove-Item -LiteralPath $shared -Recurse -Force -ErrorAction Ignore
        }

        $reported | Should -BeLike 'PrivateKeyAccessDenied,*'
        $reported | Should -BeLike '*LOCAL SERVICE*'
        $reported | Should -BeLike "*$($imported.Thumbprint)*Grant-StitchKeyAccess*"
    }
}

Describe 'The platform seam' {
    It 'keeps every Windows/Unix branch of the C# code inside src/StitchMtls.Core/Platform' {
        # The net472 build for Windows PowerShell 5.1 is meant to change the files of that folder only.
        $source = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '../src')).Path
        $branches = Get-ChildItem -LiteralPath $source -Recurse -Filter '*.cs' |
            Where-Object { $_.FullName -notmatch '[\\/](obj|bin|Platform)[\\/]' } |
            Select-String -Pattern 'IsWindows|RSACng|OperatingSystem\.' |
            ForEach-Object { '{0}:{1}' -f $_.Path.Substring($source.Length), $_.LineNumber }

        $branches | Should -BeNullOrEmpty
    }
}
