# Helpers for Pester tests that need the local Stitch mTLS gateway (tests/StitchMtls.TestGateway) and the other
# loopback peers fault tests use: the gateway's CONNECT proxy, a listener that never speaks, a strict
# openssl s_server, and an unused port. Dot-source this file in a BeforeAll block:
#
#     BeforeAll { . "$PSScriptRoot/common/Gateway.ps1" }
#
# The gateway must be built first (dotnet build tests/StitchMtls.TestGateway -c Release); these helpers never
# build it. Every path handed to the gateway is made absolute here, because the gateway's working directory is
# the process's, not PowerShell's current location. PowerShell 7 only: the helpers use ProcessStartInfo.ArgumentList
# and Process.Kill(bool), which .NET Framework lacks.

#Requires -Version 7.0

function Get-TestGatewayPath {
    <#
    .SYNOPSIS
    The path of the built gateway, StitchMtls.TestGateway.dll.

    .DESCRIPTION
    Uses $env:STITCH_GATEWAY_DLL when it is set, otherwise the Release build output of
    tests/StitchMtls.TestGateway. Throws when the file does not exist.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param()

    if ($env:STITCH_GATEWAY_DLL) {
        $path = $env:STITCH_GATEWAY_DLL
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
            throw "Cannot find the test gateway at '$path' named by STITCH_GATEWAY_DLL."
        }

        return (Resolve-Path -LiteralPath $path).ProviderPath
    }

    $repositoryRoot = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    $path = Join-Path $repositoryRoot 'tests/StitchMtls.TestGateway/bin/Release/net10.0/StitchMtls.TestGateway.dll'
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        throw ("Cannot find the test gateway at '$path' because it has not been built. " +
            "Run 'dotnet build tests/StitchMtls.TestGateway -c Release' first, or set STITCH_GATEWAY_DLL.")
    }

    $path
}

function Get-TestGatewayDotnet {
    # The dotnet host that runs the gateway: the one on PATH, else the one under DOTNET_ROOT.
    [CmdletBinding()]
    [OutputType([string])]
    param()

    $command = Get-Command -Name dotnet -CommandType Application -ErrorAction SilentlyContinue |
        Select-Object -First 1
    if ($command) {
        return $command.Source
    }

    if ($env:DOTNET_ROOT) {
        $candidate = Join-Path $env:DOTNET_ROOT ($IsWindows ? 'dotnet.exe' : 'dotnet')
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            return $candidate
        }
    }

    throw 'Cannot find the dotnet host on PATH or under DOTNET_ROOT.'
}

function New-TestGatewayStartInfo {
    # A ProcessStartInfo for 'dotnet <gateway.dll> <arguments>' with every stream redirected.
    [CmdletBinding()]
    [OutputType([System.Diagnostics.ProcessStartInfo])]
    param(
        [Parameter(Mandatory)]
        [string[]]
        $Arguments
    )

    $startInfo = [System.Diagnostics.ProcessStartInfo]::new((Get-TestGatewayDotnet))
    $startInfo.ArgumentList.Add((Get-TestGatewayPath))
    foreach ($argument in $Arguments) {
        $startInfo.ArgumentList.Add($argument)
    }

    $startInfo.UseShellExecute = $false
    $startInfo.RedirectStandardInput = $true
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.WorkingDirectory = [System.IO.Path]::GetTempPath()
    $startInfo
}

function Resolve-TestGatewayPath {
    # An absolute file-system path for a PowerShell path (relative, TestDrive:, ~), existing or not.
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string]
        $Path
    )

    $PSCmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}

function Invoke-TestGatewayCli {
    <#
    .SYNOPSIS
    Runs one gateway subcommand (pki, sign, issue) to completion.

    .DESCRIPTION
    Runs 'dotnet StitchMtls.TestGateway.dll @Arguments' and returns its standard output, one string per line.
    Throws, with the gateway's standard error, when the exit code is not 0 or it runs longer than
    TimeoutSeconds.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [string[]]
        $Arguments,

        [int]
        $TimeoutSeconds = 120
    )

    $process = [System.Diagnostics.Process]::Start((New-TestGatewayStartInfo -Arguments $Arguments))
    try {
        $process.StandardInput.Close()
        $standardOutput = $process.StandardOutput.ReadToEndAsync()
        $standardError = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
            $process.Kill($true)
            $process.WaitForExit()
            throw "Test gateway '$($Arguments -join ' ')' did not finish within $TimeoutSeconds seconds."
        }

        $process.WaitForExit()
        if ($process.ExitCode -ne 0) {
            $message = $standardError.GetAwaiter().GetResult().Trim()
            throw "Test gateway '$($Arguments[0])' failed with exit code $($process.ExitCode): $message"
        }

        $standardOutput.GetAwaiter().GetResult() -split '\r?\n' | Where-Object { $_ }
    }
    finally {
        $process.Dispose()
    }
}

function New-TestPki {
    <#
    .SYNOPSIS
    Creates (or reuses) the gateway's private CA in a directory.

    .OUTPUTS
    An object with Dir and the paths Root, RootKey, Intermediate, IntermediateKey, Server, ServerKey and
    ServerChain.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string]
        $Path
    )

    $directory = Resolve-TestGatewayPath -Path $Path
    Invoke-TestGatewayCli -Arguments 'pki', '--dir', $directory | Out-Null

    [pscustomobject]@{
        PSTypeName      = 'StitchMtls.TestPki'
        Dir             = $directory
        Root            = Join-Path $directory 'root.pem'
        RootKey         = Join-Path $directory 'root.key'
        Intermediate    = Join-Path $directory 'intermediate.pem'
        IntermediateKey = Join-Path $directory 'intermediate.key'
        Server          = Join-Path $directory 'server.pem'
        ServerKey       = Join-Path $directory 'server.key'
        ServerChain     = Join-Path $directory 'server-chain.pem'
    }
}

function Add-TestLeafArgument {
    # Appends the validity and EKU options that 'sign' and 'issue' share, for the parameters the caller bound.
    param(
        [System.Collections.Generic.List[string]]
        $Arguments,

        # The caller's $PSBoundParameters.
        $BoundParameters
    )

    $options = [ordered]@{
        Days          = '--days'
        ExpiresInDays = '--expires-in-days'
        ValidFromDays = '--valid-from-days'
    }
    foreach ($name in $options.Keys) {
        if ($BoundParameters.ContainsKey($name)) {
            $Arguments.Add($options[$name])
            $Arguments.Add([string]$BoundParameters[$name])
        }
    }

    if ($BoundParameters.ContainsKey('NoEku') -and $BoundParameters['NoEku']) {
        $Arguments.Add('--no-eku')
    }
}

function New-TestClientCertificate {
    <#
    .SYNOPSIS
    Issues a client key and certificate from the test PKI (gateway 'issue').

    .DESCRIPTION
    Writes <Name>.key (PKCS#8), <Name>.pem (leaf) and <Name>-chain.pem (leaf, intermediate, root) to OutDir.
    ExpiresInDays sets NotAfter to now plus that many days (negative for an expired leaf); ValidFromDays sets
    NotBefore (positive for a leaf that is not valid yet). NoEku leaves out the extended key usage.

    .OUTPUTS
    An object with CommonName, KeyPath, ChainPath and LeafPath.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestPki')]
        $Pki,

        [Parameter(Mandatory)]
        [string]
        $CommonName,

        [Parameter(Mandatory)]
        [string]
        $OutDir,

        [string]
        $Name = 'leaf',

        [string]
        $Organization,

        [int]
        $ExpiresInDays,

        [int]
        $ValidFromDays,

        [switch]
        $NoEku
    )

    $directory = Resolve-TestGatewayPath -Path $OutDir
    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.AddRange([string[]]('issue', '--pki', $Pki.Dir, '--cn', $CommonName, '--out-dir', $directory))
    $arguments.AddRange([string[]]('--name', $Name))
    if ($Organization) {
        $arguments.AddRange([string[]]('--org', $Organization))
    }

    Add-TestLeafArgument -Arguments $arguments -BoundParameters $PSBoundParameters
    Invoke-TestGatewayCli -Arguments $arguments.ToArray() | Out-Null

    [pscustomobject]@{
        PSTypeName = 'StitchMtls.TestClientCertificate'
        CommonName = $CommonName
        KeyPath    = Join-Path $directory "$Name.key"
        ChainPath  = Join-Path $directory "$Name-chain.pem"
        LeafPath   = Join-Path $directory "$Name.pem"
    }
}

function Invoke-TestSigningDesk {
    <#
    .SYNOPSIS
    Has the test PKI sign a certificate signing request, as Stitch's onboarding desk would (gateway 'sign').

    .DESCRIPTION
    Writes the chain leaf, intermediate, root as PEM to OutFile and returns OutFile's absolute path. The
    subject is copied from the CSR byte for byte. Throws when the CSR's signature does not verify.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestPki')]
        $Pki,

        [Parameter(Mandatory)]
        [string]
        $CsrPath,

        [Parameter(Mandatory)]
        [string]
        $OutFile,

        [int]
        $Days,

        [int]
        $ExpiresInDays,

        [int]
        $ValidFromDays,

        [switch]
        $NoEku
    )

    $output = Resolve-TestGatewayPath -Path $OutFile
    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.AddRange([string[]]('sign', '--pki', $Pki.Dir))
    $arguments.AddRange([string[]]('--csr', (Resolve-TestGatewayPath -Path $CsrPath), '--out', $output))
    Add-TestLeafArgument -Arguments $arguments -BoundParameters $PSBoundParameters
    Invoke-TestGatewayCli -Arguments $arguments.ToArray() | Out-Null
    $output
}

function Start-TestBackgroundScript {
    # Runs a script on a runspace of its own and returns the PowerShell instance and its async result, for
    # Stop-TestBackgroundScript to collect.
    param(
        [string]
        $Script,

        [object[]]
        $ArgumentList
    )

    $sessionState = [System.Management.Automation.Runspaces.InitialSessionState]::Create()
    $sessionState.LanguageMode = [System.Management.Automation.PSLanguageMode]::FullLanguage
    $runspace = [runspacefactory]::CreateRunspace($sessionState)
    $runspace.Open()
    $background = [powershell]::Create()
    $background.Runspace = $runspace
    $null = $background.AddScript($Script)
    foreach ($argument in $ArgumentList) {
        $null = $background.AddArgument($argument)
    }

    [pscustomobject]@{
        PowerShell = $background
        Result     = $background.BeginInvoke()
    }
}

function Stop-TestBackgroundScript {
    # Waits for a script from Start-TestBackgroundScript to end, then frees its runspace.
    param(
        $Background
    )

    $null = $Background.PowerShell.EndInvoke($Background.Result)
    $Background.PowerShell.Runspace.Dispose()
    $Background.PowerShell.Dispose()
}

function Start-TestGatewayLinePump {
    # Copies every line of a reader into a queue on a runspace of its own, so the child never blocks on a full
    # pipe. Returns the PowerShell instance and its async result, for Stop-TestGateway to collect.
    param(
        [System.IO.TextReader]
        $Reader,

        [System.Collections.Concurrent.ConcurrentQueue[string]]
        $Queue
    )

    Start-TestBackgroundScript -ArgumentList $Reader, $Queue -Script (
        'param($reader, $queue) while ($null -ne ($line = $reader.ReadLine())) { $queue.Enqueue($line) }')
}

function Start-TestServerProcess {
    # Starts a long-running child whose standard output and error are pumped into queues, and waits for the line
    # that gives its port. Returns the object Start-TestGateway and Start-TestProxy describe, with the type names
    # given; the last is always 'StitchMtls.TestProcess', which Stop-TestGateway accepts.
    param(
        [System.Diagnostics.ProcessStartInfo]
        $StartInfo,

        # Matches the ready line; group 1, if there is one, is the port.
        [string]
        $ReadyPattern,

        # The port, when the ready line does not give it.
        [int]
        $Port,

        # The URI scheme of the Uri property.
        [string]
        $Scheme,

        # What the messages call the child.
        [string]
        $Description,

        [string[]]
        $TypeName,

        [int]
        $TimeoutSeconds
    )

    $outputLines = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
    $errorLines = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
    $process = [System.Diagnostics.Process]::Start($StartInfo)
    $server = [pscustomobject]@{
        Uri         = $null
        Port        = 0
        Process     = $process
        OutputLines = $outputLines
        ErrorLines  = $errorLines
        Pumps       = @(
            Start-TestGatewayLinePump -Reader $process.StandardOutput -Queue $outputLines
            Start-TestGatewayLinePump -Reader $process.StandardError -Queue $errorLines
        )
    }
    foreach ($name in @($TypeName) + 'StitchMtls.TestProcess') {
        $server.PSObject.TypeNames.Insert($server.PSObject.TypeNames.Count - 2, $name)
    }

    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        $ready = @($outputLines.ToArray()) -match $ReadyPattern | Select-Object -First 1
        if ($ready) {
            $server.Port = ($ready -match $ReadyPattern) -and $Matches.Contains(1) ? [int]$Matches[1] : $Port
            $server.Uri = [uri]"${Scheme}://127.0.0.1:$($server.Port)/"
            return $server
        }

        if ($process.HasExited -or [datetime]::UtcNow -gt $deadline) {
            $reason = $process.HasExited ? "exited with code $($process.ExitCode)" :
                "did not report that it was ready within $TimeoutSeconds seconds"
            Stop-TestGateway -Gateway $server
            throw "$Description $reason. Standard error: $(@($errorLines.ToArray()) -join ' ')"
        }

        Start-Sleep -Milliseconds 25
    }
}

function Start-TestGateway {
    <#
    .SYNOPSIS
    Starts the gateway ('serve') in the background and waits until it accepts connections.

    .DESCRIPTION
    The gateway listens on 127.0.0.1 on a free port and demands a client certificate from the PKI's CA.
    AllowedCommonName limits which client CNs pass access control (the rest get 403 'RBAC: access denied');
    without it every CN passes. Its standard output and error are drained continuously into OutputLines and
    ErrorLines; Get-TestGatewayRequest parses the REQUEST lines, Get-TestGatewayConnectionCount and
    Get-TestGatewayHandshakeCount count the CONNECTION and HANDSHAKE lines. Always pair with Stop-TestGateway.

    ServerCertificate picks what the gateway presents: 'default' (server.pem, for localhost and 127.0.0.1),
    'other-host' (server-other.pem, from the same CA but for other.example.com only, so host name checks fail)
    or 'self-signed' (server-self-signed.pem, right names but no CA). The last two are created in the PKI
    directory on first use. StallAfterHandshake makes the gateway complete every handshake, read the request and
    never answer (a STALLED line instead of a REQUEST line) until the client gives up or the gateway stops.

    ClientAssertionCertificate names the PEM certificate the client registered for private_key_jwt; without it
    the token endpoint refuses client assertions. TokenLifetime sets expires_in of issued tokens (3600 s by
    default). ApiFault makes /graphql and /v2/*: answer the first request with 429 (Retry-After: 1) or 503
    ('429-once', '503-once'), or make /graphql refuse every token as UNAUTHENTICATED ('unauthenticated').
    Get-TestGatewayIssuedToken lists the tokens issued; Clear-TestGatewayToken expires them;
    Set-TestGatewayTokenError makes the next token request fail with a given OAuth error.

    .OUTPUTS
    An object with Uri, Port, Process, OutputLines and ErrorLines.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestPki')]
        $Pki,

        [ValidateSet('1.2', '1.3', 'any')]
        [string]
        $Tls = 'any',

        [string[]]
        $AllowedCommonName,

        [string]
        $ClientId,

        [string]
        $ClientSecret,

        [ValidateSet('auto', 'openssl', 'sslstream')]
        [string]
        $TlsEngine = 'auto',

        [ValidateSet('default', 'other-host', 'self-signed')]
        [string]
        $ServerCertificate = 'default',

        [switch]
        $StallAfterHandshake,

        [string]
        $ClientAssertionCertificate,

        [int]
        $TokenLifetime,

        [ValidateSet('none', '429-once', '503-once', 'unauthenticated')]
        [string]
        $ApiFault = 'none',

        [int]
        $TimeoutSeconds = 30
    )

    $arguments = [System.Collections.Generic.List[string]]::new()
    if ($ClientAssertionCertificate) {
        $arguments.AddRange([string[]]('--client-assertion-cert',
            (Resolve-TestGatewayPath -Path $ClientAssertionCertificate)))
    }

    if ($TokenLifetime) {
        $arguments.AddRange([string[]]('--token-lifetime', [string]$TokenLifetime))
    }

    if ($ApiFault -ne 'none') {
        $arguments.AddRange([string[]]('--api-fault', $ApiFault))
    }

    $arguments.InsertRange(0, [string[]]('serve', '--pki', $Pki.Dir, '--tls', $Tls, '--tls-engine', $TlsEngine))
    if ($AllowedCommonName) {
        $arguments.AddRange([string[]]('--allowed-cn', ($AllowedCommonName -join ',')))
    }

    if ($ClientId) {
        $arguments.AddRange([string[]]('--client-id', $ClientId))
    }

    if ($ClientSecret) {
        $arguments.AddRange([string[]]('--client-secret', $ClientSecret))
    }

    if ($ServerCertificate -ne 'default') {
        $arguments.AddRange([string[]]('--server-cert', $ServerCertificate))
    }

    if ($StallAfterHandshake) {
        $arguments.Add('--stall-after-handshake')
    }

    $startParameters = @{
        StartInfo      = New-TestGatewayStartInfo -Arguments $arguments.ToArray()
        ReadyPattern   = '^LISTENING https://127\.0\.0\.1:(\d+)/$'
        Scheme         = 'https'
        Description    = 'Test gateway'
        TypeName       = 'StitchMtls.TestGateway'
        TimeoutSeconds = $TimeoutSeconds
    }
    Start-TestServerProcess @startParameters
}

function Start-TestProxy {
    <#
    .SYNOPSIS
    Starts the gateway's loopback HTTP CONNECT proxy ('proxy') and waits until it accepts connections.

    .DESCRIPTION
    Mode 'forward' tunnels CONNECT to 127.0.0.1 or localhost (any other target gets 403; the proxy never connects
    anywhere else) and answers 'HTTP/1.1 200 Connection established'; 'refuse' answers every CONNECT with
    403 Forbidden; 'auth' answers 407 with 'Proxy-Authenticate: Basic realm="test"' unless the request carries
    Basic credentials for User and Password, then forwards. A port nothing listens on gets 502. The proxy logs
    CONNECTION n=<k> per accepted connection and 'PROXY <method> <target> status=<code>' per request, which
    Get-TestProxyRequest parses. Stop it with Stop-TestProxy (or Stop-TestGateway).

    .OUTPUTS
    An object with Uri (http://127.0.0.1:<port>/), Port, Mode, Process, OutputLines and ErrorLines.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [ValidateSet('forward', 'refuse', 'auth')]
        [string]
        $Mode,

        [string]
        $User,

        [string]
        $Password,

        [int]
        $TimeoutSeconds = 30
    )

    if ($Mode -eq 'auth' -and -not ($PSBoundParameters.ContainsKey('User') -and
            $PSBoundParameters.ContainsKey('Password'))) {
        throw "Start-TestProxy -Mode auth needs -User and -Password."
    }

    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.AddRange([string[]]('proxy', '--mode', $Mode))
    if ($Mode -eq 'auth') {
        $arguments.AddRange([string[]]('--user', $User, '--password', $Password))
    }

    $startParameters = @{
        StartInfo      = New-TestGatewayStartInfo -Arguments $arguments.ToArray()
        ReadyPattern   = '^LISTENING http://127\.0\.0\.1:(\d+)/$'
        Scheme         = 'http'
        Description    = 'Test proxy'
        TypeName       = 'StitchMtls.TestProxy'
        TimeoutSeconds = $TimeoutSeconds
    }
    $proxy = Start-TestServerProcess @startParameters
    $proxy | Add-Member -NotePropertyName Mode -NotePropertyValue $Mode -PassThru
}

function Stop-TestGateway {
    <#
    .SYNOPSIS
    Stops a gateway from Start-TestGateway, or a proxy from Start-TestProxy: closes its standard input, waits,
    and kills it if it lingers.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline)]
        [AllowNull()]
        [PSTypeName('StitchMtls.TestProcess')]
        $Gateway,

        [int]
        $TimeoutSeconds = 5
    )

    process {
        if ($null -eq $Gateway) {
            return
        }

        $process = $Gateway.Process
        try {
            if (-not $process.HasExited) {
                $process.StandardInput.Close()
                if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
                    Write-Warning "Test gateway (process $($process.Id)) ignored end of input; killing it."
                    $process.Kill($true)
                }
            }

            $process.WaitForExit()
        }
        finally {
            foreach ($pump in $Gateway.Pumps) {
                Stop-TestBackgroundScript -Background $pump
            }

            $Gateway.Pumps = @()
            $process.Dispose()
        }
    }
}

function Stop-TestProxy {
    <#
    .SYNOPSIS
    Stops a proxy from Start-TestProxy (the same as Stop-TestGateway).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline)]
        [AllowNull()]
        [PSTypeName('StitchMtls.TestProxy')]
        $Proxy,

        [int]
        $TimeoutSeconds = 5
    )

    process {
        Stop-TestGateway -Gateway $Proxy -TimeoutSeconds $TimeoutSeconds
    }
}

function Get-TestGatewayRequest {
    <#
    .SYNOPSIS
    The requests a gateway has served so far, parsed from its REQUEST lines.

    .OUTPUTS
    Objects with Method, Path, CommonName and StatusCode, oldest first.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestGateway')]
        $Gateway
    )

    foreach ($line in $Gateway.OutputLines.ToArray()) {
        if ($line -match '^REQUEST (?<method>\S+) (?<path>\S+) cn=(?<cn>.*) status=(?<status>\d{3})$') {
            [pscustomobject]@{
                Method     = $Matches.method
                Path       = $Matches.path
                CommonName = $Matches.cn
                StatusCode = [int]$Matches.status
            }
        }
    }
}

function Get-TestGatewayHandshake {
    <#
    .SYNOPSIS
    The TLS handshakes a gateway has completed so far, parsed from its HANDSHAKE lines.

    .OUTPUTS
    Objects with Connection (the number of its CONNECTION line), CommonName and Protocol (TLSv1.2 or TLSv1.3),
    oldest first.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestGateway')]
        $Gateway
    )

    foreach ($line in $Gateway.OutputLines.ToArray()) {
        if ($line -match '^HANDSHAKE n=(?<n>\d+) cn=(?<cn>.*) protocol=(?<protocol>\S+)$') {
            [pscustomobject]@{
                Connection = [int]$Matches.n
                CommonName = $Matches.cn
                Protocol   = $Matches.protocol
            }
        }
    }
}

function Get-TestGatewayIssuedToken {
    <#
    .SYNOPSIS
    The access tokens a gateway has issued so far, parsed from its TOKEN lines, oldest first.

    .DESCRIPTION
    Tests search their output and transcripts for these values to show that a client never reveals a token.
    #>
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestGateway')]
        $Gateway
    )

    foreach ($line in $Gateway.OutputLines.ToArray()) {
        if ($line -match '^TOKEN issued=(?<token>\S+) ') {
            $Matches.token
        }
    }
}

function Clear-TestGatewayToken {
    <#
    .SYNOPSIS
    Makes every token a gateway has issued expire now (POST /test/expire-tokens with curl over mTLS).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestGateway')]
        $Gateway,

        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestPki')]
        $Pki,

        # A client from New-TestClientCertificate (or any object with ChainPath and KeyPath) the gateway admits.
        [Parameter(Mandatory)]
        $Client
    )

    $result = Invoke-Curl -Arguments @('--cert', $Client.ChainPath, '--key', $Client.KeyPath, '--cacert', $Pki.Root,
        '-X', 'POST', "$($Gateway.Uri)test/expire-tokens")
    if ($result.StatusCode -ne 204) {
        throw "The gateway did not expire its tokens: curl exit $($result.ExitCode), HTTP $($result.StatusCode)."
    }
}

function Set-TestGatewayTokenError {
    <#
    .SYNOPSIS
    Makes a gateway answer its next token request (or the next Times requests) with the OAuth error Code
    (POST /test/token-error).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestGateway')]
        $Gateway,

        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestPki')]
        $Pki,

        [Parameter(Mandatory)]
        $Client,

        [Parameter(Mandatory)]
        [string]
        $Code,

        [ValidateRange(1, 100)]
        [int]
        $Times = 1
    )

    $result = Invoke-Curl -Arguments @('--cert', $Client.ChainPath, '--key', $Client.KeyPath, '--cacert', $Pki.Root,
        '--data-urlencode', "error=$Code", '--data-urlencode', "times=$Times", "$($Gateway.Uri)test/token-error")
    if ($result.StatusCode -ne 204) {
        throw "The gateway did not take the token error: curl exit $($result.ExitCode), HTTP $($result.StatusCode)."
    }
}

function Get-TestProxyRequest {
    <#
    .SYNOPSIS
    The requests a proxy from Start-TestProxy has answered so far, parsed from its PROXY lines.

    .OUTPUTS
    Objects with Method, Target (host:port for CONNECT) and StatusCode, oldest first.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestProxy')]
        $Proxy
    )

    foreach ($line in $Proxy.OutputLines.ToArray()) {
        if ($line -match '^PROXY (?<method>\S+) (?<target>\S+) status=(?<status>\d{3})$') {
            [pscustomobject]@{
                Method     = $Matches.method
                Target     = $Matches.target
                StatusCode = [int]$Matches.status
            }
        }
    }
}

function Get-TestGatewayLineCount {
    # Counts the output lines that match Pattern once the count has stayed the same for SettleMilliseconds (a
    # server logs a connection a moment after the client has moved on), waiting no longer than TimeoutSeconds.
    param(
        $Server,

        [string]
        $Pattern,

        [int]
        $SettleMilliseconds,

        [int]
        $TimeoutSeconds = 5
    )

    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSeconds)
    $count = @($Server.OutputLines.ToArray() -match $Pattern).Count
    $stableSince = [datetime]::UtcNow
    while ([datetime]::UtcNow -lt $deadline -and
        ([datetime]::UtcNow - $stableSince).TotalMilliseconds -lt $SettleMilliseconds) {
        Start-Sleep -Milliseconds 25
        $now = @($Server.OutputLines.ToArray() -match $Pattern).Count
        if ($now -ne $count) {
            $count = $now
            $stableSince = [datetime]::UtcNow
        }
    }

    $count
}

function Get-TestGatewayConnectionCount {
    <#
    .SYNOPSIS
    How many TCP connections a gateway, proxy or silent listener has accepted so far (its CONNECTION lines).

    .DESCRIPTION
    Every connection is counted when it is accepted, before any TLS, so a connection the server refused in the
    handshake counts too. The count is read once it has not changed for SettleMilliseconds, since the server
    logs a connection a moment after the client has gone on; 0 after the wait means no client reached it.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [Parameter(Mandatory)]
        [ValidateScript({ $null -ne $_.OutputLines },
            ErrorMessage = 'Gateway must come from Start-TestGateway, Start-TestProxy or Start-SilentListener.')]
        $Gateway,

        [ValidateRange(0, 5000)]
        [int]
        $SettleMilliseconds = 200
    )

    Get-TestGatewayLineCount -Server $Gateway -Pattern '^CONNECTION n=\d+$' -SettleMilliseconds $SettleMilliseconds
}

function Get-TestGatewayHandshakeCount {
    <#
    .SYNOPSIS
    How many TLS handshakes a gateway has completed so far (its HANDSHAKE lines).

    .DESCRIPTION
    A handshake counts once the gateway has accepted the client's certificate; one it refused with an alert
    does not. Under TLS 1.3 the client finishes its side first, so a client that then gives up (a host name it
    does not accept, for instance) may still be counted here. Read as Get-TestGatewayConnectionCount is.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestGateway')]
        $Gateway,

        [ValidateRange(0, 5000)]
        [int]
        $SettleMilliseconds = 200
    )

    Get-TestGatewayLineCount -Server $Gateway -Pattern '^HANDSHAKE n=\d+ ' -SettleMilliseconds $SettleMilliseconds
}

function Get-UnusedLoopbackPort {
    <#
    .SYNOPSIS
    A TCP port on 127.0.0.1 that nothing listens on at this moment: a connection to it is refused.

    .DESCRIPTION
    Borrows a free port from the system and gives it back at once, so another process could take it before the
    caller uses it; in practice the system hands out ports in turn and does not reuse one this soon.
    #>
    [CmdletBinding()]
    [OutputType([int])]
    param()

    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try {
        $listener.LocalEndpoint.Port
    }
    finally {
        $listener.Stop()
    }
}

function Start-SilentListener {
    <#
    .SYNOPSIS
    Listens on 127.0.0.1 and accepts every connection but never sends a byte: a peer that stalls a TLS client
    in its handshake until the client's timeout.

    .DESCRIPTION
    Accepted connections stay open until Stop() (or Stop-SilentListener); what clients send is never read.
    Each accepted connection adds a 'CONNECTION n=<k>' line to OutputLines, so Get-TestGatewayConnectionCount
    works on the listener too.

    .OUTPUTS
    An object with Port, Uri (https://127.0.0.1:<port>/), OutputLines and the methods Stop() and Dispose().
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param()

    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $stopping = [System.Threading.CancellationTokenSource]::new()
    $sockets = [System.Collections.Concurrent.ConcurrentQueue[System.Net.Sockets.Socket]]::new()
    $lines = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
    $acceptor = Start-TestBackgroundScript -ArgumentList $listener, $stopping.Token, $sockets, $lines -Script @'
        param($listener, $stopping, $sockets, $lines)
        $count = 0
        while ($true) {
            try {
                $socket = $listener.AcceptSocketAsync($stopping).AsTask().GetAwaiter().GetResult()
            }
            catch {
                break
            }

            $sockets.Enqueue($socket)
            $count++
            $lines.Enqueue("CONNECTION n=$count")
        }
'@

    $silent = [pscustomobject]@{
        PSTypeName  = 'StitchMtls.SilentListener'
        Port        = $listener.LocalEndpoint.Port
        Uri         = [uri]"https://127.0.0.1:$($listener.LocalEndpoint.Port)/"
        OutputLines = $lines
        Listener    = $listener
        Stopping    = $stopping
        Sockets     = $sockets
        Acceptor    = $acceptor
    }

    # The methods use nothing but the object: they may run where this file's functions are out of scope.
    $stop = {
        if ($this.Stopping.IsCancellationRequested) {
            return
        }

        $this.Stopping.Cancel()
        $this.Listener.Stop()
        $null = $this.Acceptor.PowerShell.EndInvoke($this.Acceptor.Result)
        $this.Acceptor.PowerShell.Runspace.Dispose()
        $this.Acceptor.PowerShell.Dispose()
        $socket = $null
        while ($this.Sockets.TryDequeue([ref]$socket)) {
            $socket.Dispose()
        }
    }
    $silent | Add-Member -MemberType ScriptMethod -Name Stop -Value $stop
    $silent | Add-Member -MemberType ScriptMethod -Name Dispose -Value $stop
    $silent
}

function Stop-SilentListener {
    <#
    .SYNOPSIS
    Stops a listener from Start-SilentListener and closes every connection it accepted. Stopping twice is harmless.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline)]
        [AllowNull()]
        [PSTypeName('StitchMtls.SilentListener')]
        $Listener
    )

    process {
        if ($null -ne $Listener) {
            $Listener.Stop()
        }
    }
}

function Start-StrictOpenSslServer {
    <#
    .SYNOPSIS
    Starts 'openssl s_server' as an independent mTLS peer that demands a client certificate chaining to the PKI's
    root, on one TLS version, and waits until it accepts connections.

    .DESCRIPTION
    Runs openssl s_server -accept 127.0.0.1:<port> -www -tls1_2|-tls1_3 -cert server.pem -key server.key
    -cert_chain intermediate.pem -Verify 2 -verify_return_error -CAfile root.pem. -www answers 'GET /' with
    200 and a status page. Without -verify_return_error s_server would complete the handshake for any
    certificate. Stop it with Stop-StrictOpenSslServer.

    .OUTPUTS
    An object with Uri, Port, Tls, Process, OutputLines and ErrorLines.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [PSTypeName('StitchMtls.TestPki')]
        $Pki,

        [Parameter(Mandatory)]
        [ValidateSet('1.2', '1.3')]
        [string]
        $Tls,

        [int]
        $TimeoutSeconds = 15
    )

    $openssl = Get-Command -Name openssl -CommandType Application -ErrorAction Stop | Select-Object -First 1

    # A borrowed port may be taken again before s_server binds it; then s_server exits and another port is tried.
    for ($attempt = 1; ; $attempt++) {
        $port = Get-UnusedLoopbackPort
        $startInfo = [System.Diagnostics.ProcessStartInfo]::new($openssl.Source)
        $arguments = 's_server', '-accept', "127.0.0.1:$port", '-www', "-tls$($Tls -replace '\.', '_')",
        '-cert', $Pki.Server, '-key', $Pki.ServerKey, '-cert_chain', $Pki.Intermediate,
        '-Verify', '2', '-verify_return_error', '-CAfile', $Pki.Root
        foreach ($argument in $arguments) {
            $startInfo.ArgumentList.Add($argument)
        }

        $startInfo.UseShellExecute = $false
        $startInfo.RedirectStandardInput = $true
        $startInfo.RedirectStandardOutput = $true
        $startInfo.RedirectStandardError = $true
        $startInfo.WorkingDirectory = [System.IO.Path]::GetTempPath()

        # s_server prints ACCEPT once it listens; the port comes from here, not from its output.
        $startParameters = @{
            StartInfo      = $startInfo
            ReadyPattern   = '^ACCEPT$'
            Port           = $port
            Scheme         = 'https'
            Description    = "openssl s_server (TLS $Tls)"
            TypeName       = 'StitchMtls.StrictOpenSslServer'
            TimeoutSeconds = $TimeoutSeconds
        }
        try {
            $server = Start-TestServerProcess @startParameters
        }
        catch {
            if ($attempt -lt 3 -and "$_" -like '*exited with code*') {
                continue
            }

            throw
        }

        return $server | Add-Member -NotePropertyName Tls -NotePropertyValue $Tls -PassThru
    }
}

function Stop-StrictOpenSslServer {
    <#
    .SYNOPSIS
    Stops an openssl s_server from Start-StrictOpenSslServer (it ignores end of input, so it is killed).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline)]
        [AllowNull()]
        [PSTypeName('StitchMtls.StrictOpenSslServer')]
        $Server
    )

    process {
        if ($null -eq $Server) {
            return
        }

        if (-not $Server.Process.HasExited) {
            $Server.Process.Kill()
        }

        Stop-TestGateway -Gateway $Server -TimeoutSeconds 5
    }
}

function Invoke-Curl {
    <#
    .SYNOPSIS
    Runs curl as an independent client and returns what the tests look at.

    .DESCRIPTION
    Returns ExitCode, StatusCode, ContentType, AppConnectSeconds (when TLS was up; 0 when it never was), Body and
    Error (stderr). Without Proxy, curl is told to use none whatever the environment says: an empty --proxy does
    that, where '--noproxy *' would be globbed by PowerShell when splatted.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [string[]]
        $Arguments,

        [uri]
        $Proxy,

        [double]
        $MaxTime = 20
    )

    $bodyPath = Join-Path $TestDrive 'curl.body'
    $errorPath = Join-Path $TestDrive 'curl.err'
    Remove-Item -LiteralPath $bodyPath -ErrorAction Ignore
    $proxyArguments = $Proxy ? @('--proxy', $Proxy) : @('--proxy', '')
    $written = & curl --silent --show-error --max-time $MaxTime --output $bodyPath @proxyArguments `
        --write-out '%{http_code}|%{time_appconnect}|%{content_type}' @Arguments 2> $errorPath
    $exitCode = $LASTEXITCODE
    $statusCode, $appConnect, $contentType = "$written" -split '\|', 3

    [pscustomobject]@{
        ExitCode          = $exitCode
        StatusCode        = [int]$statusCode
        ContentType       = $contentType
        AppConnectSeconds = [double]::Parse($appConnect, [cultureinfo]::InvariantCulture)
        Body              = (Test-Path $bodyPath) ? (Get-Content -LiteralPath $bodyPath -Raw) : $null
        Error             = Get-Content -LiteralPath $errorPath -Raw
    }
}

function Invoke-OpenSslClient {
    <#
    .SYNOPSIS
    Connects with openssl s_client on one TLS version, sends one GET and returns everything openssl printed.

    .DESCRIPTION
    With Client (from New-TestClientCertificate) it presents that leaf, its chain and key; without, no
    certificate at all. The tests read the TLS alert the server answered with from the output.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [int]
        $Port,

        [Parameter(Mandatory)]
        [ValidateSet('1.2', '1.3')]
        [string]
        $Tls,

        [Parameter(Mandatory)]
        [string]
        $CaFile,

        $Client
    )

    $certificate = if ($Client) {
        @('-cert', $Client.LeafPath, '-cert_chain', $Client.ChainPath, '-key', $Client.KeyPath)
    }
    $request = "GET / HTTP/1.1`r`nHost: 127.0.0.1`r`nConnection: close`r`n`r`n"
    "$($request | & openssl s_client -connect "127.0.0.1:$Port" "-tls$($Tls -replace '\.', '_')" @certificate `
        -CAfile $CaFile -ign_eof 2>&1)"
}
