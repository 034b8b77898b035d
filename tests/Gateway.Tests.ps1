# Smoke tests of the local Stitch mTLS gateway (tests/StitchMtls.TestGateway) that the module's tests run against.
# They need the gateway built (dotnet build tests/StitchMtls.TestGateway -c Release), openssl and curl.

BeforeAll {
    . "$PSScriptRoot/common/Gateway.ps1"

    function Get-TokenArgument {
        # The client-credentials form, as a client of Stitch's token endpoint posts it.
        param(
            [string]
            $ClientSecret = 'test-secret'
        )

        '--data-urlencode', 'client_id=test-client',
        '--data-urlencode', "client_secret=$ClientSecret",
        '--data-urlencode', 'grant_type=client_credentials',
        '--data-urlencode', 'scope=client_paymentrequest client_refund'
    }

    function Get-TlsAlert {
        # Connects with openssl s_client, sends one request and returns the TLS alert the gateway answered with.
        param(
            [Parameter(Mandatory)]
            $Gateway,

            [Parameter(Mandatory)]
            $Client,

            [Parameter(Mandatory)]
            [string]
            $Tls
        )

        $output = Invoke-OpenSslClient -Port $Gateway.Port -Tls $Tls -CaFile $pki.Root -Client $Client
        $alert = $output | Select-String -Pattern 'alert ([a-z ]+?)(?::|,|\s*$)' -AllMatches |
            ForEach-Object { $_.Matches } | Select-Object -First 1
        $alert ? $alert.Groups[1].Value.Trim() : $null
    }

    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $foreignPki = New-TestPki -Path (Join-Path $TestDrive 'foreign-pki')
    $clients = Join-Path $TestDrive 'clients'
    $trusted = New-TestClientCertificate -Pki $pki -CommonName 'stitch-client' -OutDir $clients -Name 'trusted'
    $notAllowed = New-TestClientCertificate -Pki $pki -CommonName 'someone-else' -OutDir $clients -Name 'other'
    $expired = New-TestClientCertificate -Pki $pki -CommonName 'stitch-client' -OutDir $clients -Name 'expired' `
        -ExpiresInDays -1
    $foreign = New-TestClientCertificate -Pki $foreignPki -CommonName 'stitch-client' -OutDir $clients `
        -Name 'foreign'
}

Describe 'Test gateway PKI' {
    BeforeAll {
        $csr = Join-Path $TestDrive 'desk.csr'
        & openssl req -new -newkey rsa:2048 -nodes -keyout (Join-Path $TestDrive 'desk.key') -out $csr `
            -subj '/C=ZA/O=Acme Pay (Pty) Ltd+OU=Payments/CN=stitch-client' 2>&1 | Out-Null
    }

    It 'creates a root, an intermediate and a server certificate that openssl verifies' {
        foreach ($path in $pki.Root, $pki.Intermediate, $pki.IntermediateKey, $pki.Server, $pki.ServerChain) {
            $path | Should -Exist
        }

        $verdict = & openssl verify -CAfile $pki.Root -untrusted $pki.Intermediate $pki.Server 2>&1

        $LASTEXITCODE | Should -Be 0
        "$verdict" | Should -BeLike '*server.pem: OK*'
    }

    It 'writes private keys as PKCS#8 readable by their owner only' {
        Get-Content -LiteralPath $pki.IntermediateKey -TotalCount 1 | Should -Be '-----BEGIN PRIVATE KEY-----'
        if (-not $IsWindows) {
            (Get-Item -LiteralPath $pki.IntermediateKey).UnixFileMode |
                Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        }
    }

    It 'leaves an existing PKI untouched when asked again' {
        $before = Get-FileHash -LiteralPath $pki.Root, $pki.IntermediateKey, $pki.ServerChain

        New-TestPki -Path $pki.Dir | Out-Null

        (Get-FileHash -LiteralPath $pki.Root, $pki.IntermediateKey, $pki.ServerChain).Hash |
            Should -Be $before.Hash
    }

    It 'signs a CSR with the subject exactly as the client encoded it' {
        $chain = Invoke-TestSigningDesk -Pki $pki -CsrPath $csr -OutFile (Join-Path $TestDrive 'desk-chain.pem')

        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::LoadSigningRequestPem(
            (Get-Content -LiteralPath $csr -Raw),
            [System.Security.Cryptography.HashAlgorithmName]::SHA256)
        $leaf = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($chain)
        $leaf.SubjectName.RawData | Should -Be $request.SubjectName.RawData
        & openssl verify -CAfile $pki.Root -untrusted $pki.Intermediate -purpose sslclient $chain 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0
    }

    It 'refuses a CSR whose signature does not verify' {
        $der = Join-Path $TestDrive 'tampered.der'
        & openssl req -in $csr -outform DER -out $der 2>&1 | Out-Null
        $bytes = [System.IO.File]::ReadAllBytes($der)
        $bytes[-5] = $bytes[-5] -bxor 0xFF
        [System.IO.File]::WriteAllBytes($der, $bytes)

        { Invoke-TestSigningDesk -Pki $pki -CsrPath $der -OutFile (Join-Path $TestDrive 'never.pem') } |
            Should -Throw '*exit code 2*signature is not valid*'
    }
}

Describe 'Test gateway over TLS <Tls>' -ForEach @(
    @{ Tls = '1.2' }
    @{ Tls = '1.3' }
) {
    BeforeAll {
        $gateway = Start-TestGateway -Pki $pki -Tls $Tls -AllowedCommonName 'stitch-client'
        $tokenUri = [uri]::new($gateway.Uri, 'connect/token')
    }

    AfterAll {
        Stop-TestGateway -Gateway $gateway
    }

    It 'issues an access token to a client whose certificate comes from its CA' {
        $response = Invoke-Curl -Arguments (@(
                '--cert', $trusted.ChainPath, '--key', $trusted.KeyPath, '--cacert', $pki.Root, $tokenUri
            ) + (Get-TokenArgument))

        $response.ExitCode | Should -Be 0
        $response.StatusCode | Should -Be 200
        $token = $response.Body | ConvertFrom-Json
        $token.access_token | Should -Not -BeNullOrEmpty
        $token.token_type | Should -Be 'Bearer'
        $token.expires_in | Should -Be 3600
        $token.scope | Should -Be 'client_paymentrequest client_refund'
    }

    It 'rejects a certificate from a foreign CA with a TLS unknown_ca alert' {
        $response = Invoke-Curl -Arguments '--cert', $foreign.ChainPath, '--key', $foreign.KeyPath,
        '--cacert', $pki.Root, $gateway.Uri

        $response.ExitCode | Should -Not -Be 0
        $response.Error | Should -BeLike '*alert unknown ca*'
        Get-TlsAlert -Gateway $gateway -Client $foreign -Tls $Tls | Should -Be 'unknown ca'
    }

    It 'rejects an expired certificate with a TLS certificate_expired alert' {
        Get-TlsAlert -Gateway $gateway -Client $expired -Tls $Tls | Should -Be 'certificate expired'
    }

    It 'answers 403 RBAC: access denied to a trusted client whose CN is not allowed' {
        $response = Invoke-Curl -Arguments (@(
                '--cert', $notAllowed.ChainPath, '--key', $notAllowed.KeyPath, '--cacert', $pki.Root, $tokenUri
            ) + (Get-TokenArgument))

        $response.StatusCode | Should -Be 403
        $response.ContentType | Should -Be 'text/plain'
        $response.Body | Should -BeExactly 'RBAC: access denied'
    }

    It 'answers invalid_client (401) to a wrong client secret' {
        $response = Invoke-Curl -Arguments (@(
                '--cert', $trusted.ChainPath, '--key', $trusted.KeyPath, '--cacert', $pki.Root, $tokenUri
            ) + (Get-TokenArgument -ClientSecret 'not-the-secret'))

        $response.StatusCode | Should -Be 401
        ($response.Body | ConvertFrom-Json).error | Should -Be 'invalid_client'
    }

    It 'logs each served request with its client CN and status, and nothing for rejected handshakes' {
        $requests = @(Get-TestGatewayRequest -Gateway $gateway)

        $requests.Count | Should -Be 3
        $requests[0].Method | Should -Be 'POST'
        $requests[0].Path | Should -Be '/connect/token'
        $requests.CommonName | Should -Be 'stitch-client', 'someone-else', 'stitch-client'
        $requests.StatusCode | Should -Be 200, 403, 401
    }
}
