BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $clientId = 'test-client'
    $clientSecret = 'gateway-secret-' + [guid]::NewGuid().ToString('N')
    $credential = [pscredential]::new($clientId, (ConvertTo-SecureString $clientSecret -AsPlainText -Force))

    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $foreignPki = New-TestPki -Path (Join-Path $TestDrive 'foreign-pki')

    # The onboarding flow, with the module's own files: CSR, signing desk, chain import.
    $work = Join-Path $TestDrive 'client'
    New-Item -ItemType Directory -Path $work | Out-Null
    $csr = New-StitchTestCsr -Folder $work -CommonName 'stitch-test.example.com'
    Invoke-TestSigningDesk -Pki $pki -CsrPath $csr.CsrPath -OutFile (Join-Path $work 'signed.pem')
    $chain = Import-StitchChain -Path (Join-Path $work 'signed.pem') -KeyPath $csr.KeyPath

    $disabled = New-TestClientCertificate -Pki $pki -CommonName 'stitch-other.example.com' `
        -OutDir (Join-Path $TestDrive 'disabled')
    $foreign = New-TestClientCertificate -Pki $foreignPki -CommonName 'stitch-test.example.com' `
        -OutDir (Join-Path $TestDrive 'foreign')

    $gateways = @{}
    foreach ($tls in '1.2', '1.3') {
        $gateways[$tls] = Start-TestGateway -Pki $pki -Tls $tls -AllowedCommonName 'stitch-test.example.com' `
            -ClientId $clientId -ClientSecret $clientSecret
    }

    function Test-Gateway {
        [CmdletBinding()]
        param([string] $Tls, [string] $ChainPath = $chain.ChainPath, [string] $KeyPath = $csr.KeyPath,
            [pscredential] $Credential)
        $parameters = @{
            Endpoint = $gateways[$Tls].Uri.ToString(); CertificatePath = $ChainPath; KeyPath = $KeyPath
            ServerCertificateAuthority = $pki.Root; TimeoutSec = 15
        }
        if ($Credential) { $parameters.Credential = $Credential }
        Test-StitchMtls @parameters
    }
}

AfterAll {
    foreach ($gateway in $gateways.Values) { Stop-TestGateway -Gateway $gateway }
}

Describe 'Test-StitchMtls against the local gateway' {
    It 'succeeds end to end with an enabled CN and the right credentials on TLS <Tls>' -TestCases @(
        @{ Tls = '1.2' }, @{ Tls = '1.3' }
    ) {
        $result = Test-Gateway -Tls $Tls -Credential $credential

        $result.Success | Should -BeTrue
        $result.DiagnosisId | Should -Be 'Success'
        $result.Stage | Should -Be 'Token'
        $result.TlsProtocol | Should -Be "TLS $Tls"
        $result.TokenLifetime | Should -Be ([timespan]::FromSeconds(3600))
        $result.Stages.Stage | Should -Be 'PreFlight', 'Resolve', 'Connect', 'Tls', 'Http', 'Token'
        $result.Stages.Success | Should -Not -Contain $false
    }

    It 'succeeds without credentials by reaching the gateway over mTLS' {
        $result = Test-Gateway -Tls '1.3'
        $result.Success | Should -BeTrue
        $result.Stage | Should -Be 'Http'
        $result.HttpStatus | Should -Be 200
    }

    It 'diagnoses a CN that is not enabled as RBAC on TLS <Tls>' -TestCases @(@{ Tls = '1.2' }, @{ Tls = '1.3' }) {
        $result = Test-Gateway -Tls $Tls -ChainPath $disabled.ChainPath -KeyPath $disabled.KeyPath `
            -Credential $credential

        $result.Success | Should -BeFalse
        $result.DiagnosisId | Should -Be 'RbacDenied'
        $result.FailedStage | Should -Be 'Http'
        $result.HttpStatus | Should -Be 403
        $result.Diagnosis | Should -BeLike "*RBAC: access denied*'stitch-other.example.com'*onboarding*"
    }

    It 'diagnoses a certificate from another CA as unknown CA on TLS <Tls>' -TestCases @(
        @{ Tls = '1.2' }, @{ Tls = '1.3' }
    ) {
        $result = Test-Gateway -Tls $Tls -ChainPath $foreign.ChainPath -KeyPath $foreign.KeyPath -Credential $credential

        $result.Success | Should -BeFalse
        $result.DiagnosisId | Should -Be 'UnknownCa'
        $result.FailedStage | Should -Be 'Tls'
        $result.Diagnosis | Should -BeLike '*does not chain to the CA the gateway trusts*'
    }

    It 'diagnoses wrong client credentials as invalid_client' {
        $wrong = [pscredential]::new($clientId, (ConvertTo-SecureString 'not-the-secret' -AsPlainText -Force))
        $result = Test-Gateway -Tls '1.3' -Credential $wrong

        $result.DiagnosisId | Should -Be 'TokenInvalidClient'
        $result.FailedStage | Should -Be 'Token'
        $result.HttpStatus | Should -Be 401
    }

    It 'returns only $true or $false with -Quiet' {
        Test-StitchMtls -Endpoint $gateways['1.3'].Uri -CertificatePath $chain.ChainPath -KeyPath $csr.KeyPath `
            -ServerCertificateAuthority $pki.Root -Quiet | Should -BeExactly $true
        Test-StitchMtls -Endpoint $gateways['1.3'].Uri -CertificatePath $foreign.ChainPath -KeyPath $foreign.KeyPath `
            -ServerCertificateAuthority $pki.Root -Quiet | Should -BeExactly $false
    }

    It 'tests several endpoints in one call, one result each' {
        $results = Test-StitchMtls -Endpoint $gateways['1.2'].Uri, $gateways['1.3'].Uri `
            -CertificatePath $chain.ChainPath -KeyPath $csr.KeyPath -ServerCertificateAuthority $pki.Root
        $results | Should -HaveCount 2
        $results.TlsProtocol | Should -Be 'TLS 1.2', 'TLS 1.3'
    }

    It 'refuses a server certificate that does not chain to -ServerCertificateAuthority' {
        $result = Test-StitchMtls -Endpoint $gateways['1.3'].Uri -CertificatePath $chain.ChainPath `
            -KeyPath $csr.KeyPath -ServerCertificateAuthority $foreignPki.Root
        $result.DiagnosisId | Should -Be 'ServerCertificateUntrusted'
        $result.FailedStage | Should -Be 'Tls'
    }

    It 'never puts the client secret or an issued token in output, verbose or diagnosis' {
        $verbose = Test-Gateway -Tls '1.3' -Credential $credential -Verbose 4>&1
        $wrong = Test-Gateway -Tls '1.2' -ChainPath $foreign.ChainPath -KeyPath $foreign.KeyPath `
            -Credential $credential -Verbose 4>&1
        $text = (@($verbose) + @($wrong) | ForEach-Object { $_ | Format-List * -Force | Out-String }) -join "`n"

        $text | Should -Not -BeLike "*$clientSecret*"
        $text | Should -Not -Match 'access_token'
        $text | Should -BeLike '*`[Tls`]*'
    }
}

Describe 'Test-StitchMtls connection failures on loopback' {
    It 'diagnoses a refused connection' {
        $port = Get-FreeLoopbackPort
        $result = Test-StitchMtls -Endpoint "https://127.0.0.1:$port/" -CertificatePath $chain.ChainPath `
            -KeyPath $csr.KeyPath
        $result.DiagnosisId | Should -Be 'ConnectionRefused'
        $result.FailedStage | Should -Be 'Connect'
    }

    It 'diagnoses a connect timeout as an egress firewall and names the address to allow' {
        # A loopback listener that never accepts, with its backlog filled: Linux then drops further SYNs,
        # exactly what a silent egress firewall does.
        $listener = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
        $listener.Bind([System.Net.IPEndPoint]::new([System.Net.IPAddress]::Loopback, 0))
        $listener.Listen(0)
        $port = $listener.LocalEndPoint.Port
        $fillers = 1..4 | ForEach-Object {
            $s = [System.Net.Sockets.Socket]::new('InterNetwork', 'Stream', 'Tcp')
            $null = $s.ConnectAsync('127.0.0.1', $port).Wait(500)
            $s
        }
        try {
            $result = Test-StitchMtls -Endpoint "https://127.0.0.1:$port/" -CertificatePath $chain.ChainPath `
                -KeyPath $csr.KeyPath -TimeoutSec 2
            $result.DiagnosisId | Should -Be 'ConnectTimeout'
            $result.FailedStage | Should -Be 'Connect'
            $result.Diagnosis | Should -BeLike '*firewall*127.0.0.1*'
        }
        finally {
            $fillers | ForEach-Object Dispose
            $listener.Dispose()
        }
    }

    It 'diagnoses a server that accepts but never speaks TLS as a TLS-stage timeout' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $result = Test-StitchMtls -Endpoint "https://127.0.0.1:$($listener.LocalEndpoint.Port)/" `
                -CertificatePath $chain.ChainPath -KeyPath $csr.KeyPath -TimeoutSec 2
            $result.DiagnosisId | Should -Be 'TlsTimeout'
            $result.FailedStage | Should -Be 'Tls'
        }
        finally {
            $listener.Stop()
        }
    }
}

Describe 'Independent peers: openssl s_server and curl' {
    BeforeAll {
        function Start-StrictOpenSslServer {
            param([string] $Tls)
            $port = Get-FreeLoopbackPort
            $arguments = @('s_server', '-accept', "127.0.0.1:$port", '-www', "-tls$($Tls -replace '\.', '_')",
                '-cert', $pki.Server, '-key', $pki.ServerKey, '-cert_chain', $pki.Intermediate,
                '-Verify', '2', '-verify_return_error', '-CAfile', $pki.Root)
            $process = Start-Process -FilePath openssl -ArgumentList $arguments -PassThru `
                -RedirectStandardOutput (Join-Path $TestDrive "s_server-$port.out") `
                -RedirectStandardError (Join-Path $TestDrive "s_server-$port.err")
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            while ([DateTime]::UtcNow -lt $deadline) {
                try { [System.Net.Sockets.TcpClient]::new('127.0.0.1', $port).Dispose(); break }
                catch { Start-Sleep -Milliseconds 100 }
            }
            [pscustomobject]@{ Process = $process; Uri = "https://127.0.0.1:$port/" }
        }
    }

    It 'openssl s_server -Verify 2 on TLS <Tls> accepts the module''s chain and rejects a foreign one' -TestCases @(
        @{ Tls = '1.2' }, @{ Tls = '1.3' }
    ) {
        $server = Start-StrictOpenSslServer -Tls $Tls
        try {
            $ok = Test-StitchMtls -Endpoint $server.Uri -CertificatePath $chain.ChainPath -KeyPath $csr.KeyPath `
                -ServerCertificateAuthority $pki.Root -TimeoutSec 15
            $bad = Test-StitchMtls -Endpoint $server.Uri -CertificatePath $foreign.ChainPath -KeyPath $foreign.KeyPath `
                -ServerCertificateAuthority $pki.Root -TimeoutSec 15

            $ok.Success | Should -BeTrue -Because $ok.Diagnosis
            $ok.TlsProtocol | Should -Be "TLS $Tls"
            $bad.Success | Should -BeFalse
            $bad.FailedStage | Should -Be 'Tls'
            $bad.DiagnosisId | Should -Be 'UnknownCa'
        }
        finally {
            Stop-Process -Id $server.Process.Id -ErrorAction SilentlyContinue
        }
    }

    It 'curl, run as Stitch documents it with only files the module wrote, gets a token' {
        $uri = $gateways['1.3'].Uri
        $body = & curl --silent --show-error --cacert $pki.Root --cert $chain.ChainPath --key $csr.KeyPath `
            --location --request POST "${uri}connect/token" `
            --header 'Content-Type: application/x-www-form-urlencoded' `
            --data-urlencode "client_id=$clientId" `
            --data-urlencode "client_secret=$clientSecret" `
            --data-urlencode 'grant_type=client_credentials' `
            --data-urlencode 'audience=https://secure.stitch.money/connect/token'
        $LASTEXITCODE | Should -Be 0
        ($body | ConvertFrom-Json).token_type | Should -Be 'Bearer'
    }

    It 'curl with a certificate from an unrelated CA fails the handshake' {
        $uri = $gateways['1.2'].Uri
        $null = & curl --silent --cacert $pki.Root --cert $foreign.ChainPath --key $foreign.KeyPath "${uri}" 2>&1
        $LASTEXITCODE | Should -BeIn 35, 56
    }
}
