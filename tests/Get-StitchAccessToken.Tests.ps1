BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'common/IsolatedStore.ps1')

    $clientId = 'test-client'
    $clientSecret = 'token-secret-' + [guid]::NewGuid().ToString('N')
    $credential = [pscredential]::new($clientId, (ConvertTo-SecureString $clientSecret -AsPlainText -Force))

    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $client = New-TestClientCertificate -Pki $pki -CommonName 'stitch-token.example.com' `
        -OutDir (Join-Path $TestDrive 'client')
    $unregistered = New-TestClientCertificate -Pki $pki -CommonName 'stitch-token.example.com' `
        -OutDir (Join-Path $TestDrive 'unregistered')
    $disabled = New-TestClientCertificate -Pki $pki -CommonName 'stitch-disabled.example.com' `
        -OutDir (Join-Path $TestDrive 'disabled')
    $expired = New-TestClientCertificate -Pki $pki -CommonName 'stitch-token.example.com' -ExpiresInDays -1 `
        -OutDir (Join-Path $TestDrive 'expired')

    # The client registered its mTLS certificate as the private_key_jwt key, as Stitch allows.
    $gateway = Start-TestGateway -Pki $pki -AllowedCommonName 'stitch-token.example.com' -ClientId $clientId `
        -ClientSecret $clientSecret -ClientAssertionCertificate $client.LeafPath

    $connection = @{
        Endpoint                   = $gateway.Uri.ToString()
        CertificatePath            = $client.ChainPath
        KeyPath                    = $client.KeyPath
        ServerCertificateAuthority = $pki.Root
        TimeoutSec                 = 20
    }

    function Get-TokenRequestCount {
        # The gateway's lines reach this process through a pipe: count once they have settled.
        Get-TestGatewayLineCount -Server $gateway -Pattern '^REQUEST \S+ /connect/token ' -SettleMilliseconds 200
    }

    function Get-SigningCertificate {
        param($Files)
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile($Files.LeafPath,
            $Files.KeyPath)
    }

    function Send-ClientAssertion {
        # Posts a hand-made client assertion with curl, to show what the gateway checks.
        param([string] $Assertion)
        Invoke-Curl -Arguments @('--cert', $client.ChainPath, '--key', $client.KeyPath, '--cacert', $pki.Root,
            '--data-urlencode', 'grant_type=client_credentials',
            '--data-urlencode', 'client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            '--data-urlencode', "client_assertion=$Assertion", "$($gateway.Uri)connect/token")
    }
}

AfterAll {
    Stop-TestGateway -Gateway $gateway
}

Describe 'Get-StitchAccessToken' {
    It 'returns a token object whose token is a SecureString and whose text never shows it' {
        $token = Get-StitchAccessToken @connection -Credential $credential -Scope client_paymentrequest -Force
        $issued = @(Get-TestGatewayIssuedToken -Gateway $gateway)[-1]

        $token | Should -BeOfType ([StitchMtls.StitchAccessToken])
        $token.AccessToken | Should -BeOfType ([securestring])
        [System.Net.NetworkCredential]::new('', $token.AccessToken).Password | Should -BeExactly $issued
        $token.TokenType | Should -Be 'Bearer'
        $token.Scope | Should -Be 'client_paymentrequest'
        $token.ClientId | Should -Be $clientId
        $token.ClientAuthentication | Should -Be 'client_secret_post'
        $token.ExpiresOn.Kind | Should -Be 'Utc'
        ($token.ExpiresOn - [datetime]::UtcNow).TotalSeconds | Should -BeGreaterThan 3500
        $shown = @("$token", ($token | Format-List * | Out-String), ($token | Format-Table | Out-String),
            ($token | ConvertTo-Json -Depth 3)) -join "`n"
        $shown | Should -Not -BeLike "*$issued*"
    }

    It 'leaves the token out of Export-Clixml and of the serialisation remoting and jobs use' {
        $token = Get-StitchAccessToken @connection -Credential $credential -Force
        $issued = @(Get-TestGatewayIssuedToken -Gateway $gateway)[-1]
        $hex = -join ([System.Text.Encoding]::Unicode.GetBytes($issued) | ForEach-Object { $_.ToString('x2') })
        $file = Join-Path $TestDrive 'token.xml'
        $nested = Join-Path $TestDrive 'nested.xml'

        $token | Export-Clixml -LiteralPath $file
        @{ Saved = $token; List = @($token) } | Export-Clixml -LiteralPath $nested -Depth 5
        $remoting = [System.Management.Automation.PSSerializer]::Serialize($token, 5)

        foreach ($text in (Get-Content -LiteralPath $file -Raw), (Get-Content -LiteralPath $nested -Raw), $remoting) {
            $text | Should -Not -BeLike "*$issued*"
            $text | Should -Not -BeLike "*$hex*"
            $text | Should -Not -BeLike '*N="AccessToken"*'
        }
        $imported = Import-Clixml -LiteralPath $file
        $imported.ClientId | Should -Be $clientId
        $imported.ExpiresOn | Should -Be $token.ExpiresOn
        $imported.PSObject.Properties.Name | Should -Not -Contain 'AccessToken'
    }

    It 'reuses the session''s token until it is told -Force' {
        $first = Get-StitchAccessToken @connection -Credential $credential -Scope client_refund
        $before = Get-TokenRequestCount

        $second = Get-StitchAccessToken @connection -Credential $credential -Scope client_refund
        Get-TokenRequestCount | Should -Be $before
        $second | Should -Be $first

        $forced = Get-StitchAccessToken @connection -Credential $credential -Scope client_refund -Force
        Get-TokenRequestCount | Should -Be ($before + 1)
        $forced | Should -Not -Be $first
    }

    It 'checks the server certificate and the proxy of each call, also when the session holds a token' {
        $null = Get-StitchAccessToken @connection -Credential $credential -Scope client_refund
        $untrusted = $connection.Clone()
        $untrusted.Remove('ServerCertificateAuthority')
        $proxied = $connection.Clone()
        $proxied.Proxy = 'http://127.0.0.1:1'

        { Get-StitchAccessToken @untrusted -Credential $credential -Scope client_refund -ErrorAction Stop } |
            Should -Throw -ErrorId 'ServerCertificateUntrusted,StitchMtls.Commands.GetStitchAccessTokenCommand'
        { Get-StitchAccessToken @proxied -Credential $credential -Scope client_refund -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConnectionRefused,StitchMtls.Commands.GetStitchAccessTokenCommand'
    }

    It 'refuses a client certificate without its key even when the session has a connection for it' {
        $null = Get-StitchAccessToken @connection -Credential $credential -Scope client_refund
        $public = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($client.LeafPath)
        $parameters = $connection.Clone()
        $parameters.Remove('CertificatePath')
        $parameters.Remove('KeyPath')

        { Get-StitchAccessToken @parameters -Certificate $public -Credential $credential -Scope client_refund `
                -ErrorAction Stop } |
            Should -Throw -ErrorId 'PrivateKeyMissing,StitchMtls.Commands.GetStitchAccessTokenCommand'
    }

    It 'keeps one token per set of scopes' {
        $refund = Get-StitchAccessToken @connection -Credential $credential -Scope client_refund
        $disbursement = Get-StitchAccessToken @connection -Credential $credential -Scope client_disbursement

        $disbursement | Should -Not -Be $refund
        $disbursement.Scope | Should -Be 'client_disbursement'
    }

    It 'never answers a wrong secret with the token a right one fetched' {
        $null = Get-StitchAccessToken @connection -Credential $credential -Scope client_refund
        $wrong = [pscredential]::new($clientId, (ConvertTo-SecureString 'not-the-secret' -AsPlainText -Force))

        { Get-StitchAccessToken @connection -Credential $wrong -Scope client_refund -ErrorAction Stop } |
            Should -Throw -ErrorId 'TokenInvalidClient,StitchMtls.Commands.GetStitchAccessTokenCommand'
    }

    It 'reports <Case> from the gateway as <ErrorId>' -TestCases @(
        @{ Case = 'a wrong secret'; AskedSecret = 'wrong-5f0d1c2e'; AskedId = $null; Scope = @()
            ErrorId = 'TokenInvalidClient' }
        @{ Case = 'an unknown client'; AskedSecret = $null; AskedId = 'other'; Scope = @()
            ErrorId = 'TokenInvalidClient' }
        @{ Case = 'an unknown scope'; AskedSecret = $null; AskedId = $null; Scope = @('client_teleport')
            ErrorId = 'TokenInvalidScope' }
    ) {
        $id = $AskedId ? $AskedId : $clientId
        $secret = $AskedSecret ? $AskedSecret : $clientSecret
        $asked = [pscredential]::new($id, (ConvertTo-SecureString $secret -AsPlainText -Force))
        $errors = $null

        $token = Get-StitchAccessToken @connection -Credential $asked -Scope $Scope -Force -ErrorVariable errors `
            -ErrorAction SilentlyContinue

        $token | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -Be "$ErrorId,StitchMtls.Commands.GetStitchAccessTokenCommand"
        "$($errors[0])" | Should -Not -BeLike "*$secret*"
    }

    It 'names the OAuth error code <Code> in the ErrorId as <ErrorId>, and no other' -TestCases @(
        @{ Code = 'invalid_request'; ErrorId = 'TokenInvalidRequest'; Category = 'InvalidArgument' }
        @{ Code = 'invalid_client'; ErrorId = 'TokenInvalidClient'; Category = 'AuthenticationError' }
        @{ Code = 'invalid_grant'; ErrorId = 'TokenInvalidGrant'; Category = 'AuthenticationError' }
        @{ Code = 'unauthorized_client'; ErrorId = 'TokenUnauthorizedClient'; Category = 'AuthenticationError' }
        @{ Code = 'unsupported_grant_type'; ErrorId = 'TokenUnsupportedGrantType'; Category = 'InvalidArgument' }
        @{ Code = 'invalid_scope'; ErrorId = 'TokenInvalidScope'; Category = 'InvalidArgument' }
        @{ Code = 'access_denied'; ErrorId = 'TokenAccessDenied'; Category = 'PermissionDenied' }
        @{ Code = 'weird_custom_error'; ErrorId = 'TokenRequestFailed'; Category = 'InvalidOperation' }
    ) {
        Set-TestGatewayTokenError -Gateway $gateway -Pki $pki -Client $client -Code $Code
        $errors = $null

        $null = Get-StitchAccessToken @connection -Credential $credential -Force -ErrorVariable errors `
            -ErrorAction SilentlyContinue

        $errors[0].FullyQualifiedErrorId | Should -Be "$ErrorId,StitchMtls.Commands.GetStitchAccessTokenCommand"
        $errors[0].CategoryInfo.Category | Should -Be $Category
        "$($errors[0])" | Should -BeLike "*$Code*"
    }

    It 'retries <Code> from the token endpoint with backoff and then succeeds' -TestCases @(
        @{ Code = 'server_error' }
        @{ Code = 'temporarily_unavailable' }
    ) {
        Set-TestGatewayTokenError -Gateway $gateway -Pki $pki -Client $client -Code $Code
        $before = Get-TokenRequestCount

        $output = Get-StitchAccessToken @connection -Credential $credential -Force -Verbose 4>&1

        @($output | Where-Object { $_ -is [StitchMtls.StitchAccessToken] }) | Should -HaveCount 1
        Get-TokenRequestCount | Should -Be ($before + 2)
        $narration = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message
        $narration -join "`n" | Should -Match "(?m)^HTTP 5\d\d \($Code\) from /connect/token; retry 1 of 3 in "
    }

    It 'reports a token endpoint that stays unavailable as ResourceUnavailable after three retries' {
        Set-TestGatewayTokenError -Gateway $gateway -Pki $pki -Client $client -Code 'temporarily_unavailable' -Times 4
        $before = Get-TokenRequestCount
        $errors = $null

        $token = Get-StitchAccessToken @connection -Credential $credential -Force -ErrorVariable errors `
            -ErrorAction SilentlyContinue

        $token | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId |
            Should -Be 'TokenTemporarilyUnavailable,StitchMtls.Commands.GetStitchAccessTokenCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        "$($errors[0])" | Should -BeLike '*Try again later*'
        Get-TokenRequestCount | Should -Be ($before + 4)
    }

    It 'authenticates with private_key_jwt, sending no secret' {
        $token = Get-StitchAccessToken @connection -ClientId $clientId -Force `
            -ClientAssertionCertificate (Get-SigningCertificate $client)

        $token.ClientAuthentication | Should -Be 'private_key_jwt'
        $token.AccessToken.Length | Should -BeGreaterThan 20
    }

    It 'takes the client ID for private_key_jwt from -Credential and does not send its secret' {
        $token = Get-StitchAccessToken @connection -Credential $credential -Scope client_refund -Force `
            -ClientAssertionCertificate (Get-SigningCertificate $client)

        $token.ClientAuthentication | Should -Be 'private_key_jwt'
    }

    It 'signs the private_key_jwt assertion with a Cert:\ store certificate, and refuses bad store paths' {
        $storeHome = Join-Path $TestDrive 'assertion-store'
        New-Item -ItemType Directory -Path $storeHome | Out-Null
        $arguments = $gateway.Uri.ToString(), $pki.Root, $client.ChainPath, $client.KeyPath, $client.LeafPath,
            $clientId
        $outcome = Invoke-IsolatedStep -UserHome $storeHome -ArgumentList $arguments {
            param($Uri, $Root, $Chain, $Key, $Leaf, $ClientId)
            $signing = [System.Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPemFile($Leaf, $Key)
            $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
            $store.Open('ReadWrite'); $store.Add($signing); $store.Close()
            $connection = @{
                Endpoint = $Uri; CertificatePath = $Chain; KeyPath = $Key; ServerCertificateAuthority = $Root
                ClientId = $ClientId; TimeoutSec = 20; Force = $true
            }
            $failures = [ordered]@{}
            $paths = [ordered]@{
                Missing = "Cert:\CurrentUser\My\$('A' * 40)"
                Root    = "Cert:\CurrentUser\Root\$($signing.Thumbprint)"
                Store   = 'Cert:\CurrentUser\My'
                Machine = "Cert:\LocalMachine\My\$($signing.Thumbprint)"
            }
            foreach ($name in $paths.Keys) {
                $failures[$name] = try {
                    Get-StitchAccessToken @connection -ClientAssertionCertificate $paths[$name] | Out-Null
                    ''
                }
                catch { $_.FullyQualifiedErrorId }
            }
            $token = Get-StitchAccessToken @connection -Verbose 4>&1 `
                -ClientAssertionCertificate "Cert:\CurrentUser\My\$($signing.Thumbprint)"
            $verbose = @($token | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
            [pscustomobject]@{
                Authentication = @($token | Where-Object { $_ -notin $verbose })[0].ClientAuthentication
                Verbose        = $verbose -join ' '
                Thumbprint     = $signing.Thumbprint
                Failures       = [pscustomobject]$failures
            }
        }

        $outcome.PSObject.Properties.Name | Should -Not -Contain 'ErrorId' -Because ($outcome | Out-String)
        $outcome.Authentication | Should -Be 'private_key_jwt'
        $outcome.Verbose | Should -BeLike "*Signing the client assertion with*$($outcome.Thumbprint)*"
        $command = 'StitchMtls.Commands.GetStitchAccessTokenCommand'
        $outcome.Failures.Missing | Should -Be "CertificateNotFound,$command"
        $outcome.Failures.Root | Should -Be "CertStorePathInvalid,$command"
        $outcome.Failures.Store | Should -Be "CertStorePathInvalid,$command"
        if (-not $IsWindows) {
            $outcome.Failures.Machine | Should -Be "PlatformNotSupported,$command"
        }
    }

    It 'is refused when the assertion is signed by a key the client did not register, naming that certificate' {
        $signing = Get-SigningCertificate $unregistered
        $errors = $null

        $null = Get-StitchAccessToken @connection -ClientId $clientId -Force -ClientAssertionCertificate $signing `
            -ErrorVariable errors -ErrorAction SilentlyContinue

        $errors[0].FullyQualifiedErrorId |
            Should -Be 'TokenInvalidClient,StitchMtls.Commands.GetStitchAccessTokenCommand'
        "$($errors[0])" | Should -BeLike "*$($signing.Thumbprint)*"
        "$($errors[0])" | Should -BeLike '*-ClientAssertionCertificate*'
        "$($errors[0])" | Should -Not -BeLike '*-Credential*'
    }

    It 'refuses the assertion certificate without its key even after the key fetched a token' {
        $null = Get-StitchAccessToken @connection -ClientId $clientId -ClientAssertionCertificate (
            Get-SigningCertificate $client)
        $public = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($client.LeafPath)
        $before = Get-TokenRequestCount

        { Get-StitchAccessToken @connection -ClientId $clientId -ClientAssertionCertificate $public `
                -ErrorAction Stop } |
            Should -Throw -ErrorId 'ClientAssertionKeyMissing,StitchMtls.Commands.GetStitchAccessTokenCommand'
        { Get-StitchAccessToken @connection -ClientId $clientId -ClientAssertionCertificate $client.LeafPath `
                -ErrorAction Stop } |
            Should -Throw -ErrorId 'ClientAssertionKeyMissing,StitchMtls.Commands.GetStitchAccessTokenCommand'
        Get-TokenRequestCount | Should -Be $before
    }

    It 'warns that the assertion certificate has expired' {
        $warnings = $null

        $null = Get-StitchAccessToken @connection -ClientId $clientId -Force -WarningVariable warnings `
            -WarningAction SilentlyContinue -ErrorAction SilentlyContinue `
            -ClientAssertionCertificate (Get-SigningCertificate $expired)

        $warnings | Should -HaveCount 1
        "$($warnings[0])" | Should -BeLike "*client assertion certificate*expired on*"
    }

    It 'has the gateway refuse an assertion with <Case>' -TestCases @(
        @{ Case = 'another issuer'; Issuer = 'someone-else'; Audience = 'https://secure.stitch.money/connect/token'
            MinutesAgo = 0; Reason = '*iss*' }
        @{ Case = 'another audience'; Issuer = 'test-client'; Audience = 'https://example.com/connect/token'
            MinutesAgo = 0; Reason = '*aud*' }
        @{ Case = 'an exp in the past'; Issuer = 'test-client'; Audience = 'https://secure.stitch.money/connect/token'
            MinutesAgo = 10; Reason = '*expired*' }
    ) {
        $signing = Get-SigningCertificate $client
        $assertion = [StitchMtls.ClientAssertion]::Create($Issuer, $Audience, $signing,
            [datetimeoffset]::UtcNow.AddMinutes(-$MinutesAgo))

        $answer = Send-ClientAssertion -Assertion $assertion

        $answer.StatusCode | Should -Be 401
        $body = $answer.Body | ConvertFrom-Json
        $body.error | Should -Be 'invalid_client'
        $body.error_description | Should -BeLike $Reason
    }

    It 'has the gateway accept an assertion once and refuse its replay' {
        $assertion = [StitchMtls.ClientAssertion]::Create($clientId, 'https://secure.stitch.money/connect/token',
            (Get-SigningCertificate $client), [datetimeoffset]::UtcNow)

        (Send-ClientAssertion -Assertion $assertion).StatusCode | Should -Be 200
        $replay = Send-ClientAssertion -Assertion $assertion
        $replay.StatusCode | Should -Be 401
        ($replay.Body | ConvertFrom-Json).error_description | Should -BeLike '*jti*used before*'
    }

    It 'signs assertions with iss = sub = client_id, the token audience, a unique jti and a short exp' {
        $signing = Get-SigningCertificate $client
        $now = [datetimeoffset]::UtcNow
        $claims = 1..2 | ForEach-Object {
            $payload = ([StitchMtls.ClientAssertion]::Create($clientId,
                    'https://secure.stitch.money/connect/token', $signing, $now) -split '\.')[1]
            $padded = $payload.Replace('-', '+').Replace('_', '/') + ('=' * ((4 - $payload.Length % 4) % 4))
            [System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($padded)) | ConvertFrom-Json
        }

        $claims[0].iss | Should -Be $clientId
        $claims[0].sub | Should -Be $clientId
        $claims[0].aud | Should -Be 'https://secure.stitch.money/connect/token'
        $claims[0].exp - $claims[0].iat | Should -BeLessOrEqual 300
        $claims[0].jti | Should -Not -Be $claims[1].jti
    }

    It 'refuses a certificate without its private key for private_key_jwt' {
        $public = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($client.LeafPath)
        {
            Get-StitchAccessToken @connection -ClientId $clientId -ClientAssertionCertificate $public -Force `
                -ErrorAction Stop
        } | Should -Throw -ErrorId 'ClientAssertionKeyMissing,StitchMtls.Commands.GetStitchAccessTokenCommand'
    }

    It 'asks for credentials when none are given' {
        { Get-StitchAccessToken @connection -ErrorAction Stop } |
            Should -Throw -ErrorId 'CredentialMissing,StitchMtls.Commands.GetStitchAccessTokenCommand'
    }

    It 'refuses the Api host, which has no token endpoint, before any traffic' {
        $parameters = $connection.Clone()
        $parameters.Endpoint = 'Api'
        { Get-StitchAccessToken @parameters -Credential $credential -ErrorAction Stop } |
            Should -Throw -ErrorId 'EndpointHasNoTokenEndpoint,StitchMtls.Commands.GetStitchAccessTokenCommand'
    }

    It 'stops an expired certificate in the pre-flight check, before connecting' {
        $before = Get-TestGatewayConnectionCount -Gateway $gateway
        $parameters = $connection.Clone()
        $parameters.CertificatePath = $expired.ChainPath
        $parameters.KeyPath = $expired.KeyPath

        { Get-StitchAccessToken @parameters -Credential $credential -ErrorAction Stop } |
            Should -Throw -ErrorId 'CertificateExpired,StitchMtls.Commands.GetStitchAccessTokenCommand'
        Get-TestGatewayConnectionCount -Gateway $gateway | Should -Be $before
    }

    It 'reports a CN the gateway has not enabled as RbacDenied' {
        $parameters = $connection.Clone()
        $parameters.CertificatePath = $disabled.ChainPath
        $parameters.KeyPath = $disabled.KeyPath

        { Get-StitchAccessToken @parameters -Credential $credential -ErrorAction Stop } |
            Should -Throw -ErrorId 'RbacDenied,StitchMtls.Commands.GetStitchAccessTokenCommand'
    }

    It 'gives up after -TimeoutSec on a gateway that never answers' {
        $stalled = Start-TestGateway -Pki $pki -StallAfterHandshake
        try {
            $parameters = $connection.Clone()
            $parameters.Endpoint = $stalled.Uri.ToString()
            $parameters.TimeoutSec = 2
            { Get-StitchAccessToken @parameters -Credential $credential -ErrorAction Stop } |
                Should -Throw -ErrorId 'RequestTimeout,StitchMtls.Commands.GetStitchAccessTokenCommand'
        }
        finally {
            Stop-TestGateway -Gateway $stalled
        }
    }

    It 'completes -Scope with Stitch''s client scopes' {
        $line = 'Get-StitchAccessToken -Scope client_p'
        $completions = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText

        $completions | Should -Contain 'client_paymentrequest'
        $completions | Should -Contain 'client_paymentauthorizationrequest'
        $completions | Should -Not -Contain 'client_refund'
    }

    It 'narrates with -Verbose without the token or the secret' {
        $verbose = Get-StitchAccessToken @connection -Credential $credential -Force -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $text = $verbose.Message -join "`n"

        $text | Should -BeLike '*Requesting a token*'
        $text | Should -Not -BeLike "*$clientSecret*"
        foreach ($issued in Get-TestGatewayIssuedToken -Gateway $gateway) {
            $text | Should -Not -BeLike "*$issued*"
        }
    }
}
