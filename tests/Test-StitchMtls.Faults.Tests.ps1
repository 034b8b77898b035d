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
    $disabled = New-TestClientCertificate -Pki $pki -CommonName 'stitch-other.example.com' -OutDir $certs `
        -Name 'disabled'
    $foreign = New-TestClientCertificate -Pki $foreignPki -CommonName $allowed -OutDir $certs -Name 'foreign'
    $expired = New-TestClientCertificate -Pki $pki -CommonName $allowed -OutDir $certs -Name 'expired' -ExpiresInDays -1
    $future = New-TestClientCertificate -Pki $pki -CommonName $allowed -OutDir $certs -Name 'future' -ValidFromDays 2

    # The gateway's own server certificate has serverAuth only: as a client certificate .NET would not send it.
    $serverAsClient = Join-Path $certs 'server-as-client.pem'
    Set-Content -LiteralPath $serverAsClient `
        -Value ((Get-Content -LiteralPath $pki.Server, $pki.Intermediate -Raw) -join "`n")

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
        $before = Get-TestGatewayConnectionCount -Gateway $gateway

        $result = Invoke-FaultTest -Uri $gateway.Uri -ChainPath $paths[0] -KeyPath $paths[1]

        $result.Success | Should -BeFalse
        $result.FailedStage | Should -Be 'PreFlight'
        $result.DiagnosisId | Should -Be $Id
        $result.Stages.Stage | Should -Be 'PreFlight'
        Get-TestGatewayConnectionCount -Gateway $gateway | Should -Be $before -Because 'pre-flight sends nothing'
    }

    It 'reports a certificate without its private key as PrivateKeyMissing' {
        $leafOnly = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem(
            (Get-Content -LiteralPath $good.LeafPath -Raw))
        $result = Test-StitchMtls -Endpoint $gateways['1.3'].Uri -Certificate $leafOnly -NoProxy -WarningAction Ignore

        $result.FailedStage | Should -Be 'PreFlight'
        $result.DiagnosisId | Should -Be 'PrivateKeyMissing'
    }

    It 'sends the intermediates of -IntermediatePath with a certificate held in no store' {
        $withKey = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile(
            $good.LeafPath, $good.KeyPath)

        $result = Test-StitchMtls -Endpoint $gateways['1.3'].Uri -Certificate $withKey `
            -IntermediatePath $pki.Intermediate -ServerCertificateAuthority $pki.Root -NoProxy -Credential $credential

        $result.Success | Should -BeTrue -Because $result.Diagnosis
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
        @{ Case = 'an expired certificate sent anyway'; Cert = 'expired'; Id = 'ClientCertificateExpired'; Stage = 'Tls'
           BadSecret = $false }
        @{ Case = 'no client certificate at all'; Cert = 'none'; Id = 'ClientCertificateRequired'; Stage = 'Tls'
           BadSecret = $false }
        @{ Case = 'a certificate without clientAuth sent anyway'; Cert = 'serverAuth'; Id = 'BadCertificate'
           Stage = 'Tls'; BadSecret = $false }
        @{ Case = 'a CN that is not enabled'; Cert = 'disabled'; Id = 'RbacDenied'; Stage = 'Http'; BadSecret = $false }
        @{ Case = 'wrong client credentials'; Cert = 'good'; Id = 'TokenInvalidClient'; Stage = 'Token'
           BadSecret = $true }
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

Describe 'Test-StitchMtls against server-side faults on TLS <_>' -ForEach '1.2', '1.3' {
    BeforeAll {
        $tls = $_
        $stalling = Start-TestGateway -Pki $pki -Tls $tls -StallAfterHandshake
        $otherHost = Start-TestGateway -Pki $pki -Tls $tls -ServerCertificate 'other-host'
        $selfSigned = Start-TestGateway -Pki $pki -Tls $tls -ServerCertificate 'self-signed'
    }

    AfterAll {
        foreach ($gateway in $stalling, $otherHost, $selfSigned) { Stop-TestGateway -Gateway $gateway }
    }

    It 'reports a response that never comes as ResponseTimeout at the Http stage' {
        $result = Invoke-FaultTest -Uri $stalling.Uri -TimeoutSec 2 -WithCredential

        $result.DiagnosisId | Should -Be 'ResponseTimeout'
        $result.FailedStage | Should -Be 'Http'
        ($result.Stages | Where-Object Stage -eq 'Tls').Success | Should -BeTrue
    }

    It 'refuses a server certificate for another host name as ServerCertificateUntrusted' {
        $result = Invoke-FaultTest -Uri $otherHost.Uri

        $result.DiagnosisId | Should -Be 'ServerCertificateUntrusted'
        $result.FailedStage | Should -Be 'Tls'
        $result.Diagnosis | Should -BeLike "*not valid for the host name '127.0.0.1'*"
    }

    It 'refuses a server certificate from a CA it does not trust as ServerCertificateUntrusted' {
        $result = Invoke-FaultTest -Uri $selfSigned.Uri

        $result.DiagnosisId | Should -Be 'ServerCertificateUntrusted'
        $result.Diagnosis | Should -BeLike '*does not chain to -ServerCertificateAuthority*'
    }
}

Describe 'Test-StitchMtls through an HTTP CONNECT proxy' {
    BeforeAll {
        $forward = Start-TestProxy -Mode forward
        $refuse = Start-TestProxy -Mode refuse
        $auth = Start-TestProxy -Mode auth -User 'proxy-user' -Password 'proxy-pass'
        $proxyCredential = [pscredential]::new('proxy-user', (ConvertTo-SecureString 'proxy-pass' -AsPlainText -Force))
        $wrongProxyCredential = [pscredential]::new('proxy-user', (ConvertTo-SecureString 'nope' -AsPlainText -Force))
        $target = $gateways['1.3'].Uri
    }

    AfterAll {
        foreach ($proxy in $forward, $refuse, $auth) { Stop-TestProxy -Proxy $proxy }
        Remove-Item Env:HTTPS_PROXY -ErrorAction SilentlyContinue
    }

    It 'succeeds through a forwarding proxy, with the handshake end to end' {
        $result = Test-StitchMtls -Endpoint $target -CertificatePath $good.ChainPath -KeyPath $good.KeyPath `
            -ServerCertificateAuthority $pki.Root -Proxy $forward.Uri -Credential $credential

        $result.Success | Should -BeTrue -Because $result.Diagnosis
        $result.Proxy | Should -Be $forward.Uri.ToString()
        $result.Stages.Stage | Should -Be 'PreFlight', 'Resolve', 'Connect', 'Proxy', 'Tls', 'Http', 'Token'
    }

    It 'names a proxy whose tunnel ends at a certificate it cannot trust as intercepting TLS' {
        $intercepting = Start-TestGateway -Pki $pki -Tls '1.3' -ServerCertificate 'self-signed'
        try {
            $result = Test-StitchMtls -Endpoint $intercepting.Uri -CertificatePath $good.ChainPath `
                -KeyPath $good.KeyPath -ServerCertificateAuthority $pki.Root -Proxy $forward.Uri
            $result.DiagnosisId | Should -Be 'ProxyInterceptsTls'
            $result.FailedStage | Should -Be 'Tls'
        }
        finally {
            Stop-TestGateway -Gateway $intercepting
        }
    }

    It 'names a proxy that refuses CONNECT as ProxyRefused' {
        $result = Test-StitchMtls -Endpoint $target -CertificatePath $good.ChainPath -KeyPath $good.KeyPath `
            -ServerCertificateAuthority $pki.Root -Proxy $refuse.Uri

        $result.DiagnosisId | Should -Be 'ProxyRefused'
        $result.FailedStage | Should -Be 'Proxy'
        $result.HttpStatus | Should -Be 403
    }

    It 'names a proxy that wants authentication as ProxyAuthenticationRequired, <Case>' -TestCases @(
        @{ Case = 'without credentials'; WithCredential = $false; Wrong = $false }
        @{ Case = 'with the wrong password'; WithCredential = $true; Wrong = $true }
    ) {
        $extra = @{}
        if ($WithCredential) {
            $extra.ProxyCredential = if ($Wrong) { $wrongProxyCredential } else { $proxyCredential }
        }
        $result = Test-StitchMtls -Endpoint $target -CertificatePath $good.ChainPath -KeyPath $good.KeyPath `
            -ServerCertificateAuthority $pki.Root -Proxy $auth.Uri @extra

        $result.DiagnosisId | Should -Be 'ProxyAuthenticationRequired'
        $result.FailedStage | Should -Be 'Proxy'
        $result.Diagnosis | Should -Not -BeLike '*proxy-pass*'
        $result.Diagnosis | Should -Not -BeLike '*nope*'
    }

    It 'authenticates to the proxy with -ProxyCredential' {
        $result = Test-StitchMtls -Endpoint $target -CertificatePath $good.ChainPath -KeyPath $good.KeyPath `
            -ServerCertificateAuthority $pki.Root -Proxy $auth.Uri -ProxyCredential $proxyCredential
        $result.Success | Should -BeTrue -Because $result.Diagnosis
    }

    It 'uses HTTPS_PROXY as HttpClient does, and -NoProxy goes direct' {
        $env:HTTPS_PROXY = $refuse.Uri.ToString()
        try {
            $viaEnvironment = Test-StitchMtls -Endpoint $target -CertificatePath $good.ChainPath `
                -KeyPath $good.KeyPath -ServerCertificateAuthority $pki.Root
            $direct = Test-StitchMtls -Endpoint $target -CertificatePath $good.ChainPath -KeyPath $good.KeyPath `
                -ServerCertificateAuthority $pki.Root -NoProxy
        }
        finally {
            Remove-Item Env:HTTPS_PROXY
        }

        # HttpClient reads HTTPS_PROXY once per process; when another test already fixed it, this run is direct.
        if ($viaEnvironment.Proxy) {
            $viaEnvironment.DiagnosisId | Should -Be 'ProxyRefused'
        }
        $direct.Success | Should -BeTrue
        $direct.Proxy | Should -BeNullOrEmpty
    }

    It 'refuses an https:// proxy and -Proxy with -NoProxy' {
        { Test-StitchMtls -Endpoint $target -CertificatePath $good.ChainPath -KeyPath $good.KeyPath `
            -Proxy 'https://127.0.0.1:3128/' } |
            Should -Throw -ErrorId 'ProxySchemeUnsupported,StitchMtls.Commands.TestStitchMtlsCommand'
        { Test-StitchMtls -Endpoint $target -CertificatePath $good.ChainPath -KeyPath $good.KeyPath `
            -Proxy $forward.Uri -NoProxy } |
            Should -Throw -ErrorId 'ProxyConflict,StitchMtls.Commands.TestStitchMtlsCommand'
    }
}

Describe 'Test-StitchMtls against peers that are not gateways' {
    It 'reports a listener that never speaks TLS as TlsTimeout' {
        $silent = Start-SilentListener
        try {
            $result = Invoke-FaultTest -Uri $silent.Uri -TimeoutSec 2
            $result.DiagnosisId | Should -Be 'TlsTimeout'
            $result.FailedStage | Should -Be 'Tls'
        }
        finally {
            Stop-SilentListener -Listener $silent
        }
    }

    It 'openssl s_server on TLS <_> accepts the chain and rejects a foreign one as UnknownCa' -ForEach '1.2', '1.3' {
        $server = Start-StrictOpenSslServer -Pki $pki -Tls $_
        try {
            (Invoke-FaultTest -Uri $server.Uri).Success | Should -BeTrue
            $foreignResult = Invoke-FaultTest -Uri $server.Uri -ChainPath $foreign.ChainPath -KeyPath $foreign.KeyPath
            $foreignResult.DiagnosisId | Should -Be 'UnknownCa'
            $foreignResult.FailedStage | Should -Be 'Tls'
        }
        finally {
            Stop-StrictOpenSslServer -Server $server
        }
    }
}
