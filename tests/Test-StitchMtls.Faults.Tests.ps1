# Every failure a real network and gateway can produce, each with its stage and diagnosis (issue 3).
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $clientId = 'fault-client'
    $clientSecret = 'fault-secret-' + [guid]::NewGuid().ToString('N')
    $credential = [pscredential]::new($clientId, (ConvertTo-SecureString $clientSecret -AsPlainText -Force))
    $allowed = 'stitch-test.example.com'

    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $foreignPki = New-TestPki -Path (Join-Path $TestDrive 'foreign-pki')
    $certs = Join-Path $TestDrive 'certs'
    $good = New-TestClientCertificate -Pki $pki -CommonName $allowed -OutDir $certs -Name 'good'
    $disabled = New-TestClientCertificate -Pki $pki -CommonName 'stitch-other.example.com' -OutDir $certs -Name 'disabled'
    $foreign = New-TestClientCertificate -Pki $foreignPki -CommonName $allowed -OutDir $certs -Name 'foreign'
    $expired = New-TestClientCertificate -Pki $pki -CommonName $allowed -OutDir $certs -Name 'expired' -ExpiresInDays -1
    $future = New-TestClientCertificate -Pki $pki -CommonName $allowed -OutDir $certs -Name 'future' -ValidFromDays 2

    # The gateway's own server certificate has serverAuth only: as a client certificate .NET would not send it.
    $serverAsClient = Join-Path $certs 'server-as-client.pem'
    Set-Content -LiteralPath $serverAsClient -Value ((Get-Content -LiteralPath $pki.Server, $pki.Intermediate -Raw) -join "`n")

    $gateways = @{}
    foreach ($tls in '1.2', '1.3') {
        $gateways[$tls] = Start-TestGateway -Pki $pki -Tls $tls -AllowedCommonName $allowed `
            -ClientId $clientId -ClientSecret $clientSecret
    }

    function Invoke-FaultTest {
        [CmdletBinding()]
        param(
            [string] $Uri, [string] $ChainPath = $good.ChainPath, [string] $KeyPath = $good.KeyPath,
            [string] $ServerAuthority = $pki.Root, [switch] $WithCredential, [switch] $SkipPreFlight,
            [int] $TimeoutSec = 10, [hashtable] $Extra = @{}
        )
        $parameters = @{
            Endpoint = $Uri; CertificatePath = $ChainPath; KeyPath = $KeyPath; TimeoutSec = $TimeoutSec
            ServerCertificateAuthority = $ServerAuthority; NoProxy = $true; SkipPreFlight = $SkipPreFlight
        } + $Extra
        if ($WithCredential) { $parameters.Credential = $credential }
        Test-StitchMtls @parameters -WarningAction SilentlyContinue
    }
}

AfterAll {
    foreach ($gateway in $gateways.Values) { Stop-TestGateway -Gateway $gateway }
}

Describe 'Test-StitchMtls pre-flight' {
    It 'stops <Case> before any traffic with <Id>' -TestCases @(
        @{ Case = 'an expired certificate'; Cert = 'expired'; Id = 'CertificateExpired' }
        @{ Case = 'a certificate not valid yet'; Cert = 'future'; Id = 'CertificateNotYetValid' }
        @{ Case = 'a key of another certificate'; Cert = 'mismatch'; Id = 'KeyCertificateMismatch' }
        @{ Case = 'a certificate without clientAuth'; Cert = 'serverAuth'; Id = 'ClientAuthEkuMissing' }
    ) {
        $paths = switch ($Cert) {
            'expired' { $expired.ChainPath, $expired.KeyPath }
            'future' { $future.ChainPath, $future.KeyPath }
            'mismatch' { $good.ChainPath, $disabled.KeyPath }
            'serverAuth' { $serverAsClient, $pki.ServerKey }
        }
        $gateway = $gateways['1.3']
        $before = @(Get-TestGatewayRequest -Gateway $gateway).Count

        $result = Invoke-FaultTest -Uri $gateway.Uri -ChainPath $paths[0] -KeyPath $paths[1]

        $result.Success | Should -BeFalse
        $result.FailedStage | Should -Be 'PreFlight'
        $result.DiagnosisId | Should -Be $Id
        $result.Stages.Stage | Should -Be 'PreFlight'
        @(Get-TestGatewayRequest -Gateway $gateway).Count | Should -Be $before
    }

    It 'reports a certificate without its private key as PrivateKeyMissing' {
        $leafOnly = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem(
            (Get-Content -LiteralPath $good.LeafPath -Raw))
        $result = Test-StitchMtls -Endpoint $gateways['1.3'].Uri -Certificate $leafOnly -NoProxy -WarningAction Ignore

        $result.FailedStage | Should -Be 'PreFlight'
        $result.DiagnosisId | Should -Be 'PrivateKeyMissing'
    }

    It 'warns when no intermediate is supplied, and the gateway then answers unknown_ca on TLS <Tls>' -TestCases @(
        @{ Tls = '1.2' }, @{ Tls = '1.3' }
    ) {
        $result = Test-StitchMtls -Endpoint $gateways[$Tls].Uri -CertificatePath $good.LeafPath -KeyPath $good.KeyPath `
            -ServerCertificateAuthority $pki.Root -NoProxy -WarningVariable warnings -WarningAction SilentlyContinue

        ($warnings -join ' ') | Should -BeLike '*No intermediate certificate was supplied*'
        $result.FailedStage | Should -Be 'Tls'
        $result.DiagnosisId | Should -Be 'UnknownCa'
        $result.Diagnosis | Should -BeLike '*intermediate certificate was not supplied*'
    }
}

Describe 'Test-StitchMtls against the gateway''s faults on TLS <_>' -ForEach '1.2', '1.3' {
    BeforeAll {
        $tls = $_
        $uri = $gateways[$tls].Uri
    }

    It 'classifies <Case> as <Id> at the <Stage> stage' -TestCases @(
        @{ Case = 'a foreign-CA certificate'; Cert = 'foreign'; Id = 'UnknownCa'; Stage = 'Tls'; BadSecret = $false }
        @{ Case = 'an expired certificate sent anyway'; Cert = 'expired'; Id = 'ClientCertificateExpired'; Stage = 'Tls'; BadSecret = $false }
        @{ Case = 'no client certificate at all'; Cert = 'none'; Id = 'ClientCertificateRequired'; Stage = 'Tls'; BadSecret = $false }
        @{ Case = 'a certificate without clientAuth sent anyway'; Cert = 'serverAuth'; Id = 'BadCertificate'; Stage = 'Tls'; BadSecret = $false }
        @{ Case = 'a CN that is not enabled'; Cert = 'disabled'; Id = 'RbacDenied'; Stage = 'Http'; BadSecret = $false }
        @{ Case = 'wrong client credentials'; Cert = 'good'; Id = 'TokenInvalidClient'; Stage = 'Token'; BadSecret = $true }
    ) {
        $paths = switch ($Cert) {
            'foreign' { $foreign.ChainPath, $foreign.KeyPath }
            'expired' { $expired.ChainPath, $expired.KeyPath }
            'serverAuth' { $serverAsClient, $pki.ServerKey }
            'disabled' { $disabled.ChainPath, $disabled.KeyPath }
            'good' { $good.ChainPath, $good.KeyPath }
            'none' { $null, $null }
        }
        $extra = @{ Credential = $credential }
        if ($BadSecret) {
            $extra.Credential = [pscredential]::new($clientId, (ConvertTo-SecureString 'wrong' -AsPlainText -Force))
        }

        $result = if ($Cert -eq 'none') {
            # A certificate without its key: with -SkipPreFlight the module connects and presents nothing.
            $leafOnly = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem(
                (Get-Content -LiteralPath $good.LeafPath -Raw))
            Test-StitchMtls -Endpoint $uri -Certificate $leafOnly -ServerCertificateAuthority $pki.Root -NoProxy `
                -SkipPreFlight -Credential $credential -WarningAction SilentlyContinue
        }
        else {
            Invoke-FaultTest -Uri $uri -ChainPath $paths[0] -KeyPath $paths[1] -SkipPreFlight -Extra $extra
        }

        $result.Success | Should -BeFalse
        $result.DiagnosisId | Should -Be $Id
        $result.FailedStage | Should -Be $Stage
        $result.Diagnosis | Should -Not -BeLike "*$clientSecret*"
    }

    It 'names the presented CN and SANs, and the onboarding request, for RBAC' {
        $result = Invoke-FaultTest -Uri $uri -ChainPath $disabled.ChainPath -KeyPath $disabled.KeyPath
        $result.Diagnosis | Should -BeLike "*CN 'stitch-other.example.com'*onboarding team*"
    }
}
