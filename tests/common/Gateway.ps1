# Helpers for Pester tests that need the local Stitch mTLS gateway (tests/StitchMtls.TestGateway).
# Dot-source this file in a BeforeAll block:
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

function Start-TestGatewayLinePump {
    # Copies every line of a reader into a queue on a runspace of its own, so the child never blocks on a full
    # pipe. Returns the PowerShell instance and its async result, for Stop-TestGateway to collect.
    param(
        [System.IO.TextReader]
        $Reader,

        [System.Collections.Concurrent.ConcurrentQueue[string]]
        $Queue
    )

    $sessionState = [System.Management.Automation.Runspaces.InitialSessionState]::Create()
    $sessionState.LanguageMode = [System.Management.Automation.PSLanguageMode]::FullLanguage
    $runspace = [runspacefactory]::CreateRunspace($sessionState)
    $runspace.Open()
    $pump = [powershell]::Create()
    $pump.Runspace = $runspace
    $null = $pump.AddScript(
        'param($reader, $queue) while ($null -ne ($line = $reader.ReadLine())) { $queue.Enqueue($line) }')
    $null = $pump.AddArgument($Reader).AddArgument($Queue)
    [pscustomobject]@{
        PowerShell = $pump
        Result     = $pump.BeginInvoke()
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
    ErrorLines; Get-TestGatewayRequest parses the REQUEST lines. Always pair with Stop-TestGateway.

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

        [int]
        $TimeoutSeconds = 30
    )

    $arguments = [System.Collections.Generic.List[string]]::new()
    $arguments.AddRange([string[]]('serve', '--pki', $Pki.Dir, '--tls', $Tls, '--tls-engine', $TlsEngine))
    if ($AllowedCommonName) {
        $arguments.AddRange([string[]]('--allowed-cn', ($AllowedCommonName -join ',')))
    }

    if ($ClientId) {
        $arguments.AddRange([string[]]('--client-id', $ClientId))
    }

    if ($ClientSecret) {
        $arguments.AddRange([string[]]('--client-secret', $ClientSecret))
    }

    $outputLines = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
    $errorLines = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
    $process = [System.Diagnostics.Process]::Start((New-TestGatewayStartInfo -Arguments $arguments.ToArray()))
    $gateway = [pscustomobject]@{
        PSTypeName  = 'StitchMtls.TestGateway'
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

    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        $listening = @($outputLines.ToArray()) -match '^LISTENING https://127\.0\.0\.1:(\d+)/$' |
            Select-Object -First 1
        if ($listening) {
            $gateway.Port = [int]($listening -replace '^LISTENING https://127\.0\.0\.1:(\d+)/$', '$1')
            $gateway.Uri = [uri]"https://127.0.0.1:$($gateway.Port)/"
            return $gateway
        }

        if ($process.HasExited -or [datetime]::UtcNow -gt $deadline) {
            $reason = $process.HasExited ? "exited with code $($process.ExitCode)" :
                "did not report LISTENING within $TimeoutSeconds seconds"
            Stop-TestGateway -Gateway $gateway
            throw "Test gateway $reason. Standard error: $(@($errorLines.ToArray()) -join ' ')"
        }

        Start-Sleep -Milliseconds 25
    }
}

function Stop-TestGateway {
    <#
    .SYNOPSIS
    Stops a gateway from Start-TestGateway: closes its standard input, waits, and kills it if it lingers.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, ValueFromPipeline)]
        [AllowNull()]
        [PSTypeName('StitchMtls.TestGateway')]
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
                $null = $pump.PowerShell.EndInvoke($pump.Result)
                $pump.PowerShell.Runspace.Dispose()
                $pump.PowerShell.Dispose()
            }

            $Gateway.Pumps = @()
            $process.Dispose()
        }
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
