# Store tests in a child pwsh with a private HOME: on Linux and macOS .NET's CurrentUser stores and the pending key
# folder live under $HOME (and $XDG_DATA_HOME), so the developer's own store is never read or changed, and a child
# process is what "a new session finds it" means. Dot-source in the parent for Invoke-IsolatedStep; a step may
# dot-source it too for Get-TestStoreState. The step itself runs through IsolatedStep.ps1.

function Invoke-IsolatedStep {
    # Runs $ScriptBlock in a new pwsh with the given user home; returns its output (deserialized JSON).
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [string]
        $UserHome,

        [Parameter(Mandatory, Position = 0)]
        [scriptblock]
        $ScriptBlock,

        [object[]]
        $ArgumentList = @()
    )

    $stepFile = Join-Path $UserHome ('step-{0}.json' -f [guid]::NewGuid().ToString('N'))
    $step = @{ Manifest = $ModuleManifest; Script = $ScriptBlock.ToString(); Arguments = $ArgumentList }
    Set-Content -LiteralPath $stepFile -Value (ConvertTo-Json -InputObject $step -Depth 4)

    # The same PowerShell as this one, the way build.ps1 starts its child: 'dotnet pwsh.dll' or pwsh itself.
    $startInfo = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
    if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') {
        $startInfo.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll'))
    }
    $runner = Join-Path $PSScriptRoot 'IsolatedStep.ps1'
    foreach ($argument in '-NoProfile', '-NonInteractive', '-File', $runner, $stepFile) {
        $startInfo.ArgumentList.Add($argument)
    }
    $startInfo.Environment['HOME'] = $UserHome
    $startInfo.Environment['XDG_DATA_HOME'] = Join-Path $UserHome '.local/share'
    $startInfo.Environment['XDG_CONFIG_HOME'] = Join-Path $UserHome '.config'
    $startInfo.Environment['XDG_CACHE_HOME'] = Join-Path $UserHome '.cache'
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.UseShellExecute = $false

    $process = [System.Diagnostics.Process]::Start($startInfo)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    # Generous: two shared cores and a 2048-bit key generation can make a step slow; a hung one still ends.
    if (-not $process.WaitForExit(180000)) {
        $process.Kill($true)
        throw 'The isolated pwsh step did not finish within 180 s.'
    }
    $line = $stdout.Result -split "`r?`n" | Where-Object { $_.StartsWith('#RESULT#') } | Select-Object -Last 1
    if (-not $line) {
        throw "The isolated pwsh step printed no result. stdout: $($stdout.Result) stderr: $($stderr.Result)"
    }
    $line.Substring('#RESULT#'.Length) | ConvertFrom-Json | ForEach-Object { $_ }
}

function Get-TestStoreState {
    # Everything a store renewal may change, as sorted text lines: the certificates in CurrentUser\My (with
    # whether each has its key) and CA, and every file in the pending key folder with its hash. 'Nothing changed'
    # means equal states.
    param([string] $CommonName)
    foreach ($name in 'My', 'CA') {
        $store = [System.Security.Cryptography.X509Certificates.X509Store]::new($name, 'CurrentUser')
        $store.Open('ReadOnly')
        try {
            foreach ($certificate in $store.Certificates) {
                if ($name -eq 'My' -and $certificate.GetNameInfo('SimpleName', $false) -ne $CommonName) { continue }
                "$name $($certificate.Thumbprint) key=$($certificate.HasPrivateKey)"
            }
        }
        finally {
            $store.Close()
        }
    }
    $root = if ($IsWindows) { $env:LOCALAPPDATA } else { Join-Path $HOME '.local/share' }
    $pending = Join-Path $root 'StitchMtls/PendingKeys'
    if (Test-Path -LiteralPath $pending) {
        Get-ChildItem -LiteralPath $pending -File | ForEach-Object {
            "pending $($_.Name)=$((Get-FileHash -LiteralPath $_.FullName).Hash)"
        }
    }
}
