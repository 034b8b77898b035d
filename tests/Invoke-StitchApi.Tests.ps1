BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $clientId = 'test-client'
    $clientSecret = 'api-secret-' + [guid]::NewGuid().ToString('N')
    $credential = [pscredential]::new($clientId, (ConvertTo-SecureString $clientSecret -AsPlainText -Force))

    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $client = New-TestClientCertificate -Pki $pki -CommonName 'stitch-api.example.com' `
        -OutDir (Join-Path $TestDrive 'client')

    $paymentQuery = 'query PaymentRequest($id: ID!) { node(id: $id) { ... on PaymentInitiationRequest { id status ' +
        'amount { quantity currency } } } }'

    # One gateway per behaviour, so each test counts only its own requests and handshakes.
    $gateways = @{}
    foreach ($fault in 'none', '429-once', '503-once', 'unauthenticated') {
        $gateways[$fault] = Start-TestGateway -Pki $pki -ClientId $clientId -ClientSecret $clientSecret `
            -ApiFault $fault
    }

    function Get-Connection {
        param([string] $Fault = 'none')
        @{
            Endpoint                   = $gateways[$Fault].Uri.ToString()
            CertificatePath            = $client.ChainPath
            KeyPath                    = $client.KeyPath
            ServerCertificateAuthority = $pki.Root
            Credential                 = $credential
            TimeoutSec                 = 30
        }
    }

    function Get-PathRequest {
        param($Gateway, [string] $Path)
        @(Get-TestGatewayRequest -Gateway $Gateway | Where-Object Path -EQ $Path)
    }
}

AfterAll {
    foreach ($gateway in $gateways.Values) { Stop-TestGateway -Gateway $gateway }
}

Describe 'Invoke-StitchApi GraphQL' {
    It 'returns the data of { __typename } as an object' {
        $connection = Get-Connection

        $result = Invoke-StitchApi @connection -Query '{ __typename }'

        $result.__typename | Should -Be 'Query'
    }

    It 'sends variables and returns nested data, amounts as decimals' {
        $connection = Get-Connection

        $result = Invoke-StitchApi @connection -Query $paymentQuery -Variables @{ id = 'pr_test_1' } `
            -OperationName PaymentRequest

        $result.node.id | Should -Be 'pr_test_1'
        $result.node.status | Should -Be 'PaymentInitiationCompleted'
        $result.node.amount.quantity | Should -BeOfType ([decimal])
        $result.node.amount.quantity | Should -Be 125.5
        $result.node.amount.currency | Should -Be 'ZAR'
    }

    It 'writes each GraphQL error as an ErrorRecord with its message and path, and still returns the data' {
        $connection = Get-Connection
        $errors = $null

        $result = Invoke-StitchApi @connection -Query $paymentQuery -Variables @{ id = 'pr_missing' } `
            -ErrorVariable errors -ErrorAction SilentlyContinue

        $result.node | Should -BeNullOrEmpty
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'GraphQLNotFound,StitchMtls.Commands.InvokeStitchApiCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].TargetObject | Should -Be 'node'
        "$($errors[0])" | Should -BeLike "*'node'*No payment request has the id 'pr_missing'*"
    }

    It 'reports a query the server rejects as GraphQLValidationFailed' {
        $connection = Get-Connection
        { Invoke-StitchApi @connection -Query '{ teleport }' -ErrorAction Stop } |
            Should -Throw -ErrorId 'GraphQLValidationFailed,StitchMtls.Commands.InvokeStitchApiCommand'
    }

    It 'refuses -Variables with <Case>, naming where it is' -TestCases @(
        @{ Case = 'NaN'; Variables = @{ id = [double]::NaN }; Where = '-Variables.id' }
        @{ Case = 'infinity in a list'; Variables = @{ ids = @(1, [double]::PositiveInfinity) }
            Where = '-Variables.ids[1]' }
    ) {
        $connection = Get-Connection
        $errors = $null

        Invoke-StitchApi @connection -Query $paymentQuery -Variables $Variables -ErrorVariable errors `
            -ErrorAction SilentlyContinue

        $errors[0].FullyQualifiedErrorId |
            Should -Be 'JsonValueNotSerializable,StitchMtls.Commands.InvokeStitchApiCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        "$($errors[0])".Contains("'$Where'") | Should -BeTrue
    }

    It 'takes a token from the pipeline, which brings its certificate and connection' {
        $connection = Get-Connection
        $token = Get-StitchAccessToken @connection -Scope client_paymentrequest

        $result = $token | Invoke-StitchApi -Endpoint $gateways['none'].Uri -Query '{ __typename }'

        $result.__typename | Should -Be 'Query'
    }

    It 'refuses a token whose certificate Remove-StitchCertificate deleted, with ClientCertificateRemoved' {
        # A certificate of its own: removal closes the session's pools of that thumbprint only.
        $doomed = New-TestClientCertificate -Pki $pki -CommonName 'stitch-api.example.com' `
            -OutDir (Join-Path $TestDrive 'doomed')
        $connection = Get-Connection
        $connection.CertificatePath = $doomed.ChainPath
        $connection.KeyPath = $doomed.KeyPath
        $token = Get-StitchAccessToken @connection
        ($token | Invoke-StitchApi -Endpoint $gateways['none'].Uri -Query '{ __typename }').__typename |
            Should -Be 'Query'

        $output = Remove-StitchCertificate -CertificatePath $doomed.ChainPath -KeyPath $doomed.KeyPath -Force `
            -WarningAction SilentlyContinue -Verbose 4>&1
        $removal = @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })[0]
        $before = (Get-PathRequest -Gateway $gateways['none'] -Path '/graphql').Count

        { $token | Invoke-StitchApi -Endpoint $gateways['none'].Uri -Query '{ __typename }' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ClientCertificateRemoved,StitchMtls.Commands.InvokeStitchApiCommand'
        "$($output -match 'Closed \d+ connection pool')" | Should -BeLike "*$($removal.Thumbprint)*"
        $token.CertificateThumbprint | Should -Be $removal.Thumbprint
        Start-Sleep -Milliseconds 300
        (Get-PathRequest -Gateway $gateways['none'] -Path '/graphql').Count | Should -Be $before
    }

    It 'refuses connection parameters with a piped token, whose own settings would be used' {
        $connection = Get-Connection
        $token = Get-StitchAccessToken @connection

        { $token | Invoke-StitchApi -Endpoint $gateways['none'].Uri -Query '{ __typename }' -Scope client_refund `
                -ErrorAction Stop } |
            Should -Throw -ErrorId 'ParameterConflict,StitchMtls.Commands.InvokeStitchApiCommand'
    }

    It 'makes 100 consecutive calls over at most 2 TLS handshakes' {
        # A gateway of its own: every handshake it counts comes from these calls.
        $gateway = Start-TestGateway -Pki $pki -ClientId $clientId -ClientSecret $clientSecret
        try {
            $connection = Get-Connection
            $connection.Endpoint = $gateway.Uri.ToString()

            $results = foreach ($call in 1..100) { Invoke-StitchApi @connection -Query '{ __typename }' }

            @($results | Where-Object __typename -EQ 'Query') | Should -HaveCount 100
            (Get-PathRequest -Gateway $gateway -Path '/graphql') | Should -HaveCount 100
            (Get-PathRequest -Gateway $gateway -Path '/connect/token') | Should -HaveCount 1
            $handshakes = Get-TestGatewayHandshakeCount -Gateway $gateway
            Write-Information "100 calls: $handshakes TLS handshake(s) at the gateway" -InformationAction Continue
            $handshakes | Should -BeLessOrEqual 2
            $handshakes | Should -BeGreaterOrEqual 1
        }
        finally {
            Stop-TestGateway -Gateway $gateway
        }
    }

    It 'renews a token the API refuses as expired and retries exactly once' {
        $gateway = $gateways['none']
        $connection = Get-Connection
        $null = Invoke-StitchApi @connection -Query '{ __typename }'
        Clear-TestGatewayToken -Gateway $gateway -Pki $pki -Client $client
        $graphql = (Get-PathRequest -Gateway $gateway -Path '/graphql').Count
        $tokens = (Get-PathRequest -Gateway $gateway -Path '/connect/token').Count

        $output = Invoke-StitchApi @connection -Query '{ __typename }' -Verbose 4>&1

        @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).__typename |
            Should -Be 'Query'
        @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message |
            Should -Contain ("$($gateway.Uri.Authority) refused the token as unauthenticated (expired or revoked); " +
                'fetching a new token and retrying once.')
        (Get-PathRequest -Gateway $gateway -Path '/graphql').Count | Should -Be ($graphql + 2)
        (Get-PathRequest -Gateway $gateway -Path '/connect/token').Count | Should -Be ($tokens + 1)
    }

    It 'retries a refused token only once, then reports GraphQLUnauthenticated' {
        $gateway = $gateways['unauthenticated']
        $connection = Get-Connection -Fault 'unauthenticated'
        $errors = $null

        $result = Invoke-StitchApi @connection -Query '{ __typename }' -ErrorVariable errors `
            -ErrorAction SilentlyContinue

        $result | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId |
            Should -Be 'GraphQLUnauthenticated,StitchMtls.Commands.InvokeStitchApiCommand'
        (Get-PathRequest -Gateway $gateway -Path '/graphql') | Should -HaveCount 2
        (Get-PathRequest -Gateway $gateway -Path '/connect/token') | Should -HaveCount 2
    }

    It 'retries HTTP <Status> and then succeeds' -TestCases @(
        @{ Fault = '429-once'; Status = 429 }
        @{ Fault = '503-once'; Status = 503 }
    ) {
        $gateway = $gateways[$Fault]
        $connection = Get-Connection -Fault $Fault

        $output = Invoke-StitchApi @connection -Query '{ __typename }' -Verbose 4>&1

        @($output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).__typename |
            Should -Be 'Query'
        (Get-PathRequest -Gateway $gateway -Path '/graphql').StatusCode | Should -Be $Status, 200
        $narration = @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message
        $narration -join "`n" | Should -Match "(?m)^HTTP $Status from /graphql; retry 1 of 3 in "
    }

    It 'honours Retry-After on 429' {
        $gateway = Start-TestGateway -Pki $pki -ClientId $clientId -ClientSecret $clientSecret -ApiFault '429-once'
        try {
            $connection = Get-Connection
            $connection.Endpoint = $gateway.Uri.ToString()

            $verbose = Invoke-StitchApi @connection -Query '{ __typename }' -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }

            $verbose.Message | Should -Contain 'HTTP 429 from /graphql; retry 1 of 3 in 1.0 s.'
        }
        finally {
            Stop-TestGateway -Gateway $gateway
        }
    }

    It 'goes through the proxy given with -Proxy' {
        $proxy = Start-TestProxy -Mode forward
        try {
            $connection = Get-Connection
            $connection.Endpoint = "https://localhost:$($gateways['none'].Port)/"

            $result = Invoke-StitchApi @connection -Query '{ __typename }' -Proxy $proxy.Uri

            $result.__typename | Should -Be 'Query'
            (Get-TestProxyRequest -Proxy $proxy).Target | Should -Contain "localhost:$($gateways['none'].Port)"
        }
        finally {
            Stop-TestProxy -Proxy $proxy
        }
    }
}

Describe 'Invoke-StitchApi REST' {
    It 'returns the JSON of a GET as objects' {
        $connection = Get-Connection

        $result = Invoke-StitchApi @connection -Path '/v2/ping'

        $result.status | Should -Be 'ok'
        $result.clientCommonName | Should -Be 'stitch-api.example.com'
    }

    It 'sends a hashtable -Body as JSON' {
        $connection = Get-Connection

        $result = Invoke-StitchApi @connection -Method POST -Path '/v2/echo' `
            -Body @{ amount = 125.5; currency = 'ZAR'; tags = @('a', 'b'); payer = @{ name = 'Example Ltd' } }

        $result.received.amount | Should -Be 125.5
        $result.received.currency | Should -Be 'ZAR'
        $result.received.tags | Should -Be 'a', 'b'
        $result.received.payer.name | Should -Be 'Example Ltd'
    }

    It 'sends dates in -Body as UTC ISO 8601 with an offset' {
        $connection = Get-Connection
        $unspecified = [datetime]::new(2025, 1, 2, 10, 0, 0)
        $local = [datetime]::new(2025, 1, 2, 10, 0, 0, [System.DateTimeKind]::Local)
        $offset = [datetimeoffset]::new(2025, 1, 2, 10, 0, 0, [timespan]::FromHours(2))

        $result = Invoke-StitchApi @connection -Method POST -Path '/v2/echo' `
            -Body @{ unspecified = $unspecified; local = $local; offset = $offset }

        $result.received.unspecified | Should -BeExactly $unspecified.ToUniversalTime().ToString('o')
        $result.received.unspecified | Should -BeLike '*Z'
        $result.received.local | Should -BeExactly $local.ToUniversalTime().ToString('o')
        $result.received.offset | Should -BeExactly '2025-01-02T10:00:00.0000000+02:00'
    }

    It 'refuses NaN in -Body with JsonValueNotSerializable, naming the property' {
        $connection = Get-Connection
        $before = @(Get-PathRequest -Gateway $gateways['none'] -Path '/v2/echo').Count

        { Invoke-StitchApi @connection -Method POST -Path '/v2/echo' -Body @{ x = [double]::NaN } -ErrorAction Stop } |
            Should -Throw -ErrorId 'JsonValueNotSerializable,StitchMtls.Commands.InvokeStitchApiCommand' `
                -ExpectedMessage "*'-Body.x'*"
        @(Get-PathRequest -Gateway $gateways['none'] -Path '/v2/echo').Count | Should -Be $before
    }

    It 'sends a string -Body as it is' {
        $connection = Get-Connection

        $result = Invoke-StitchApi @connection -Method POST -Path '/v2/echo' -Body '{"reference":"INV-1"}'

        $result.received.reference | Should -Be 'INV-1'
    }

    It 'reports an HTTP error status with its ErrorId' {
        $connection = Get-Connection
        { Invoke-StitchApi @connection -Path '/v2/missing' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ApiHttpError,StitchMtls.Commands.InvokeStitchApiCommand'
    }

    It 'refuses <Case>' -TestCases @(
        @{ Case = 'neither -Query nor -Path'; Extra = @{}; ErrorId = 'QueryOrPathRequired' }
        @{ Case = 'both -Query and -Path'; Extra = @{ Query = '{ __typename }'; Path = '/v2/ping' }
            ErrorId = 'QueryOrPathRequired' }
        @{ Case = '-Body with -Query'; Extra = @{ Query = '{ __typename }'; Body = '{}' }
            ErrorId = 'ParameterConflict' }
        @{ Case = 'a full URI as -Path'; Extra = @{ Path = 'https://example.com/v2/ping' }; ErrorId = 'PathInvalid' }
    ) {
        $connection = Get-Connection
        { Invoke-StitchApi @connection @Extra -ErrorAction Stop } |
            Should -Throw -ErrorId "$ErrorId,StitchMtls.Commands.InvokeStitchApiCommand"
    }
}

Describe 'Invoke-StitchApi and secrets' {
    It 'never shows a gateway-issued token in output, Verbose, Debug, errors or a transcript' {
        $transcript = Join-Path $TestDrive 'transcript.txt'
        $gateway = $gateways['none']
        $connection = Get-Connection
        Start-Transcript -LiteralPath $transcript -Force | Out-Null
        try {
            $token = Get-StitchAccessToken @connection -Force -Verbose -Debug
            $token | Out-Host
            $token | Format-List * | Out-Host
            "$token" | Out-Host
            $token | Invoke-StitchApi -Endpoint $gateway.Uri -Query '{ __typename }' -Verbose -Debug | Out-Host
            Invoke-StitchApi @connection -Query $paymentQuery -Variables @{ id = 'pr_missing' } -Verbose -Debug `
                -ErrorAction Continue | Out-Host
            Clear-TestGatewayToken -Gateway $gateway -Pki $pki -Client $client
            Invoke-StitchApi @connection -Path '/v2/ping' -Verbose -Debug | Out-Host
            Invoke-StitchApi @connection -Query '{ __typename }' -Verbose -Debug | Out-Host
            $refusing = Get-Connection -Fault 'unauthenticated'
            Invoke-StitchApi @refusing -Query '{ __typename }' -Verbose -Debug -ErrorAction Continue | Out-Host
            # The errors as a script would log them: message, id and the exception with its inner ones.
            $Error | Select-Object -First 5 | ForEach-Object {
                "$($_.FullyQualifiedErrorId): $($_.Exception.ToString() -replace '\s+', ' ')"
            } | Out-Host
        }
        finally {
            Stop-Transcript | Out-Null
        }

        $text = Get-Content -LiteralPath $transcript -Raw
        $issued = @($gateways.Values | ForEach-Object { Get-TestGatewayIssuedToken -Gateway $_ })
        $issued.Count | Should -BeGreaterOrEqual 3
        $text | Should -BeLike '*VERBOSE: Requesting a token*'
        $text | Should -BeLike '*GraphQLNotFound*'
        foreach ($value in $issued) {
            $text.Contains($value) | Should -BeFalse -Because 'an issued token must never reach the transcript'
        }
        $text.Contains($clientSecret) | Should -BeFalse -Because 'the client secret must never reach the transcript'
    }
}
