# The fault rig the module's failure tests run against: gateway fault modes, the gateway's CONNECT proxy, a strict
# openssl s_server, a listener that never speaks and a closed port, each shown with curl or openssl as an
# independent client. Everything listens on 127.0.0.1; nothing here reaches another address.
# They need the gateway built (dotnet build tests/StitchMtls.TestGateway -c Release), openssl and curl.

BeforeAll {
    . "$PSScriptRoot/common/Gateway.ps1"

    function Get-TokenArgument {
        # The client-credentials form, as a client of Stitch's token endpoint posts it.
        '--data-urlencode', 'client_id=test-client',
        '--data-urlencode', 'client_secret=test-secret',
        '--data-urlencode', 'grant_type=client_credentials'
    }

    function Get-TlsAlertNumber {
        # Connects with openssl s_client and no client certificate, sends one request and returns the number of
        # the TLS alert the server answered with.
        param(
            [Parameter(Mandatory)]
            [int]
            $Port,

            [Parameter(Mandatory)]
            [string]
            $Tls
        )

        $output = Invoke-OpenSslClient -Port $Port -Tls $Tls -CaFile $pki.Root
        $alert = $output | Select-String -Pattern 'SSL alert number (\d+)' | Select-Object -First 1
        $alert ? [int]$alert.Matches[0].Groups[1].Value : $null
    }

    function Get-ProxyReplyHead {
        # Sends one raw request head to a proxy and returns the head of its reply.
        param(
            [Parameter(Mandatory)]
            $Proxy,

            [Parameter(Mandatory)]
            [string]
            $RequestHead
        )

        $client = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $Proxy.Port)
        try {
            $stream = $client.GetStream()
            $stream.ReadTimeout = 5000
            $bytes = [System.Text.Encoding]::ASCII.GetBytes($RequestHead)
            $stream.Write($bytes, 0, $bytes.Length)
            $reader = [System.IO.StreamReader]::new($stream, [System.Text.Encoding]::ASCII)
            $lines = while ($line = $reader.ReadLine()) { $line }
            $lines -join "`n"
        }
        finally {
            $client.Dispose()
        }
    }

    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $trusted = New-TestClientCertificate -Pki $pki -CommonName 'stitch-client' -OutDir (Join-Path $TestDrive 'c') `
        -Name 'trusted'
    $clientArguments = '--cert', $trusted.ChainPath, '--key', $trusted.KeyPath
}

Describe 'Gateway faults over TLS <Tls>' -ForEach @(
    @{ Tls = '1.2'; Alert = 40; AlertName = 'handshake_failure'; NoCertificateExit = 35 }
    @{ Tls = '1.3'; Alert = 116; AlertName = 'certificate_required'; NoCertificateExit = 56 }
) {
    BeforeAll {
        $gateway = Start-TestGateway -Pki $pki -Tls $Tls
        $stalling = Start-TestGateway -Pki $pki -Tls $Tls -StallAfterHandshake
        $otherHost = Start-TestGateway -Pki $pki -Tls $Tls -ServerCertificate other-host
        $protocol = "TLSv$Tls"
    }

    AfterAll {
        $gateway, $stalling, $otherHost | Stop-TestGateway
    }

    It 'logs a CONNECTION line per accepted connection and a HANDSHAKE line per accepted certificate' {
        # The first test on this gateway, so the counts start from zero.
        $first = Invoke-Curl -Arguments ($clientArguments + @('--cacert', $pki.Root, $gateway.Uri))
        $second = Invoke-Curl -Arguments ($clientArguments + @('--cacert', $pki.Root, $gateway.Uri))
        $refused = Invoke-Curl -Arguments '--cacert', $pki.Root, $gateway.Uri

        $first.StatusCode, $second.StatusCode | Should -Be 200, 200
        $refused.ExitCode | Should -Be $NoCertificateExit
        Get-TestGatewayConnectionCount -Gateway $gateway | Should -Be 3
        Get-TestGatewayHandshakeCount -Gateway $gateway | Should -Be 2
        $handshakes = Get-TestGatewayHandshake -Gateway $gateway
        $handshakes.Connection | Should -Be 1, 2
        $handshakes.CommonName | Should -Be 'stitch-client', 'stitch-client'
        $handshakes.Protocol | Should -Be $protocol, $protocol
    }

    It 'refuses a client without a certificate with a <AlertName> alert' {
        $response = Invoke-Curl -Arguments '--cacert', $pki.Root, $gateway.Uri

        $response.ExitCode | Should -Be $NoCertificateExit
        Get-TlsAlertNumber -Port $gateway.Port -Tls $Tls | Should -Be $Alert
    }

    It 'completes the handshake when stalling, then never answers until the client gives up' {
        $response = Invoke-Curl -MaxTime 1.5 -Arguments ($clientArguments + @(
                '--cacert', $pki.Root, [uri]::new($stalling.Uri, 'connect/token')
            ) + (Get-TokenArgument))

        $response.ExitCode | Should -Be 28
        $response.Error | Should -BeLike '*Operation timed out after * milliseconds with 0 bytes received*'
        $response.AppConnectSeconds | Should -BeGreaterThan 0
        Get-TestGatewayHandshakeCount -Gateway $stalling | Should -Be 1
        $stalling.OutputLines.ToArray() | Should -Contain 'STALLED POST /connect/token cn=stitch-client'
        Get-TestGatewayRequest -Gateway $stalling | Should -BeNullOrEmpty
    }

    It 'presents a certificate from its CA for other.example.com, which fails the host name check' {
        $byAddress = Invoke-Curl -Arguments ($clientArguments + @('--cacert', $pki.Root, $otherHost.Uri))
        $byName = Invoke-Curl -Arguments ($clientArguments + @(
                '--cacert', $pki.Root, '--resolve', "other.example.com:$($otherHost.Port):127.0.0.1",
                "https://other.example.com:$($otherHost.Port)/"))
        $unchecked = Invoke-Curl -Arguments ($clientArguments + @('--insecure', $otherHost.Uri))

        $byAddress.ExitCode | Should -Be 60
        $byAddress.Error | Should -BeLike "*no alternative certificate subject name matches*'127.0.0.1'*"
        $byName.ExitCode | Should -Be 0
        $byName.StatusCode | Should -Be 200
        $unchecked.StatusCode | Should -Be 200
    }
}

Describe 'Gateway server certificates' {
    It 'creates server-other.pem in the PKI on first use and reuses it after' {
        Stop-TestGateway -Gateway (Start-TestGateway -Pki $pki -ServerCertificate other-host)
        $files = (Join-Path $pki.Dir 'server-other.pem'), (Join-Path $pki.Dir 'server-other.key')
        $first = Get-FileHash -LiteralPath $files

        Stop-TestGateway -Gateway (Start-TestGateway -Pki $pki -ServerCertificate other-host)

        $again = Get-FileHash -LiteralPath $files
        $again.Hash | Should -Be $first.Hash
        $verdict = & openssl verify -CAfile $pki.Root -untrusted $pki.Intermediate `
            -verify_hostname other.example.com $files[0] 2>&1
        "$verdict" | Should -BeLike '*: OK*'
    }

    It 'presents a self-signed certificate that a client trusting the root refuses' {
        $gateway = Start-TestGateway -Pki $pki -ServerCertificate self-signed
        try {
            $checked = Invoke-Curl -Arguments ($clientArguments + @('--cacert', $pki.Root, $gateway.Uri))
            $unchecked = Invoke-Curl -Arguments ($clientArguments + @('--insecure', $gateway.Uri))

            $checked.ExitCode | Should -Be 60
            $checked.Error | Should -BeLike '*self-signed certificate*'
            $unchecked.StatusCode | Should -Be 200
        }
        finally {
            Stop-TestGateway -Gateway $gateway
        }
    }
}

Describe 'Loopback CONNECT proxy' {
    BeforeAll {
        $gateway = Start-TestGateway -Pki $pki
        $forward = Start-TestProxy -Mode forward
        $refuse = Start-TestProxy -Mode refuse
        $auth = Start-TestProxy -Mode auth -User 'proxy-user' -Password 'proxy secret'
        $tokenUri = [uri]::new($gateway.Uri, 'connect/token')
        $tokenArguments = $clientArguments + @('--cacert', $pki.Root, $tokenUri) + (Get-TokenArgument)
    }

    AfterAll {
        $forward, $refuse, $auth | Stop-TestProxy
        Stop-TestGateway -Gateway $gateway
    }

    It 'forwards CONNECT to the gateway, and the client gets a token through the tunnel' {
        $before = Get-TestGatewayConnectionCount -Gateway $gateway

        $response = Invoke-Curl -Proxy $forward.Uri -Arguments $tokenArguments

        $response.StatusCode | Should -Be 200
        ($response.Body | ConvertFrom-Json).token_type | Should -Be 'Bearer'
        $connect = @(Get-TestProxyRequest -Proxy $forward)[-1]
        $connect.Method, $connect.Target, $connect.StatusCode | Should -Be 'CONNECT', "127.0.0.1:$($gateway.Port)", 200
        Get-TestGatewayConnectionCount -Gateway $gateway | Should -Be ($before + 1)
    }

    It 'answers 403 to a CONNECT for anywhere but 127.0.0.1 and localhost, and connects nowhere' {
        $response = Invoke-Curl -Proxy $forward.Uri -Arguments '--cacert', $pki.Root, 'https://other.example.com/'

        $response.ExitCode | Should -Be 56
        $response.Error | Should -BeLike '*CONNECT tunnel failed, response 403*'
        @(Get-TestProxyRequest -Proxy $forward)[-1].Target | Should -Be 'other.example.com:443'
    }

    It 'refuses every CONNECT with 403 when told to, and the gateway sees no connection' {
        $before = Get-TestGatewayConnectionCount -Gateway $gateway

        $response = Invoke-Curl -Proxy $refuse.Uri -Arguments $tokenArguments

        $response.ExitCode | Should -Be 56
        $response.Error | Should -BeLike '*CONNECT tunnel failed, response 403*'
        (Get-TestProxyRequest -Proxy $refuse).StatusCode | Should -Be 403
        Get-TestGatewayConnectionCount -Gateway $gateway | Should -Be $before
    }

    It 'demands Basic credentials with 407 and a Proxy-Authenticate challenge' {
        $head = Get-ProxyReplyHead -Proxy $auth -RequestHead (
            "CONNECT 127.0.0.1:$($gateway.Port) HTTP/1.1`r`nHost: 127.0.0.1:$($gateway.Port)`r`n`r`n")
        $anonymous = Invoke-Curl -Proxy $auth.Uri -Arguments $tokenArguments
        $wrong = Invoke-Curl -Proxy $auth.Uri -Arguments (@('--proxy-user', 'proxy-user:wrong') + $tokenArguments)

        $head | Should -BeLike 'HTTP/1.1 407 Proxy Authentication Required*'
        $head | Should -BeLike '*Proxy-Authenticate: Basic realm="test"*'
        $anonymous.ExitCode, $wrong.ExitCode | Should -Be 56, 56
        $anonymous.Error | Should -BeLike '*CONNECT tunnel failed, response 407*'
    }

    It 'forwards once the credentials are right, also after a 407 on the same connection' {
        $sent = Invoke-Curl -Proxy $auth.Uri -Arguments (@('--proxy-user', 'proxy-user:proxy secret') + $tokenArguments)
        $challenged = Invoke-Curl -Proxy $auth.Uri -Arguments (
            @('--proxy-anyauth', '--proxy-user', 'proxy-user:proxy secret') + $tokenArguments)

        $sent.StatusCode, $challenged.StatusCode | Should -Be 200, 200
        (Get-TestProxyRequest -Proxy $auth)[-3..-1].StatusCode | Should -Be 200, 407, 200
    }
}

Describe 'Independent loopback peers' {
    It 'openssl s_server on TLS <Tls> serves a client with its chain and refuses one without a certificate' -ForEach @(
        @{ Tls = '1.2'; NoCertificateExit = 35 }
        @{ Tls = '1.3'; NoCertificateExit = 56 }
    ) {
        $server = Start-StrictOpenSslServer -Pki $pki -Tls $Tls
        try {
            $accepted = Invoke-Curl -Arguments ($clientArguments + @('--cacert', $pki.Root, $server.Uri))
            $refused = Invoke-Curl -Arguments '--cacert', $pki.Root, $server.Uri

            $accepted.StatusCode | Should -Be 200
            $refused.ExitCode | Should -Be $NoCertificateExit
        }
        finally {
            Stop-StrictOpenSslServer -Server $server
        }
    }

    It 'a silent listener accepts the connection and holds the TLS handshake until the client times out' {
        $listener = Start-SilentListener
        try {
            $response = Invoke-Curl -MaxTime 1 -Arguments '--cacert', $pki.Root, $listener.Uri

            $response.ExitCode | Should -Be 28
            $response.AppConnectSeconds | Should -Be 0
            Get-TestGatewayConnectionCount -Gateway $listener | Should -Be 1
        }
        finally {
            $listener.Stop()
        }
    }

    It 'a port nothing listens on refuses the connection' {
        $response = Invoke-Curl -Arguments '--cacert', $pki.Root, "https://127.0.0.1:$(Get-UnusedLoopbackPort)/"

        $response.ExitCode | Should -Be 7
        $response.Error | Should -BeLike "*Couldn't connect to server*"
    }
}
