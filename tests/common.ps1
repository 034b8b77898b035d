# Shared by every Pester file: imports the built module and the local gateway helpers.
# build.ps1 sets STITCH_MODULE_MANIFEST; run './build.ps1 -Task Build' first when invoking Pester by hand.
$ErrorActionPreference = 'Stop'

. (Join-Path $PSScriptRoot 'common/Gateway.ps1')

$script:ModuleManifest = if ($env:STITCH_MODULE_MANIFEST) { $env:STITCH_MODULE_MANIFEST } else {
    $version = (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../StitchMtls.psd1')).ModuleVersion
    Join-Path $PSScriptRoot "../output/StitchMtls/$version/StitchMtls.psd1"
}
Import-Module $script:ModuleManifest -Force

function Invoke-OpenSsl {
    # Runs openssl and returns its combined output; throws with that output when it fails.
    $output = & openssl @args 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0) {
        throw "openssl $($args -join ' ') failed ($LASTEXITCODE): $output"
    }
    $output
}

function Split-PemCertificates {
    # Writes each certificate of a PEM file to its own file and returns the paths, in file order.
    param([string] $Path, [string] $OutDir, [string[]] $Names)
    $blocks = [regex]::Matches((Get-Content -LiteralPath $Path -Raw),
        '-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----')
    for ($i = 0; $i -lt $blocks.Count; $i++) {
        $file = Join-Path $OutDir $Names[$i]
        Set-Content -LiteralPath $file -Value $blocks[$i].Value -NoNewline
        $file
    }
}

function Get-FreeLoopbackPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Get-FileHashes {
    param([string[]] $Path)
    $Path | ForEach-Object { (Get-FileHash -LiteralPath $_ -Algorithm SHA256).Hash }
}

function New-StitchTestCsr {
    # A quick CSR for tests that need one: RSA 2048 keeps the suite fast; 4096 is tested on its own.
    [CmdletBinding()]
    param([string] $Folder, [string] $CommonName = 'stitch-test.example.com', [string] $Name = 'stitch-mtls')
    New-StitchCsr -CommonName $CommonName -Organization 'Example Ltd' -KeySize 2048 -Path $Folder -Name $Name `
        -WarningAction SilentlyContinue
}

function Invoke-TestPwsh {
    <#
    .SYNOPSIS
    Runs a script file in a new pwsh process (-NoProfile -NonInteractive -File) and returns its exit code and
    output, as a scheduled task or runbook would run it.

    .DESCRIPTION
    Environment adds or replaces variables for the child only: tests that use the CurrentUser certificate store
    set HOME to a fresh folder, so .NET's store under $HOME is never the developer's own.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $File,

        [string[]] $ArgumentList = @(),

        [hashtable] $Environment = @{},

        [int] $TimeoutSeconds = 120
    )

    # The same PowerShell as this one: under 'dotnet pwsh' the process is dotnet, running pwsh.dll.
    $powershell = [Environment]::ProcessPath
    $startInfo = [System.Diagnostics.ProcessStartInfo]::new($powershell)
    if ([IO.Path]::GetFileNameWithoutExtension($powershell) -eq 'dotnet') {
        $startInfo.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll'))
    }
    foreach ($argument in @('-NoProfile', '-NonInteractive', '-File', $File) + $ArgumentList) {
        $startInfo.ArgumentList.Add($argument)
    }
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.RedirectStandardInput = $true
    $startInfo.UseShellExecute = $false
    $startInfo.Environment['STITCH_MODULE_MANIFEST'] = $script:ModuleManifest
    $startInfo.Environment['NO_COLOR'] = '1'
    foreach ($name in $Environment.Keys) {
        $startInfo.Environment[$name] = [string]$Environment[$name]
    }

    $process = [System.Diagnostics.Process]::Start($startInfo)
    try {
        $process.StandardInput.Close()
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
            $process.Kill($true)
            throw "pwsh -File $File did not finish within $TimeoutSeconds s."
        }
        $process.WaitForExit()
        [pscustomobject]@{
            ExitCode = $process.ExitCode
            Output   = $stdout.Result
            Error    = $stderr.Result
        }
    }
    finally {
        $process.Dispose()
    }
}

function New-TestCertificateFolder {
    <#
    .SYNOPSIS
    Writes Count leaf certificates, spread over subfolders, with expiry spread over the reminder calendar.

    .DESCRIPTION
    Built in this process with one shared P-256 key and one issuer, so a thousand certificates take seconds.
    Certificate i expires in $Days[i % $Days.Count] days; the value 'future' makes one not valid for 2 days.
    Returns the expected count per status.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [string] $Path,

        [int] $Count = 1000,

        [int] $PerFolder = 100
    )

    $buckets = @(
        @{ Days = 200; Status = 'Ok' }, @{ Days = 60; Status = 'Reminder60' }, @{ Days = 45; Status = 'Reminder60' }
        @{ Days = 30; Status = 'Reminder30' }, @{ Days = 10; Status = 'Reminder14' }
        @{ Days = 3; Status = 'Reminder7' }
        @{ Days = -5; Status = 'Expired' }, @{ Days = 'future'; Status = 'NotYetValid' }
    )
    $ec = [System.Security.Cryptography.ECDsa]::Create([System.Security.Cryptography.ECCurve+NamedCurves]::nistP256)
    $sha256 = [System.Security.Cryptography.HashAlgorithmName]::SHA256
    $now = [DateTimeOffset]::UtcNow
    $caRequest = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
        'CN=Bulk Test CA', $ec, $sha256)
    $caRequest.CertificateExtensions.Add(
        [System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($true, $false, 0, $true))
    $ca = $caRequest.CreateSelfSigned($now.AddDays(-400), $now.AddDays(400))
    $leafConstraints = [System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new(
        $false, $false, 0, $true)
    $expected = @{}
    for ($i = 0; $i -lt $Count; $i++) {
        $bucket = $buckets[$i % $buckets.Count]
        $folder = Join-Path $Path ('batch-{0:000}' -f [math]::Floor($i / $PerFolder))
        if ($i % $PerFolder -eq 0) { New-Item -ItemType Directory -Path $folder -Force | Out-Null }
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new(
            "CN=stitch-bulk-$i.example.com", $ec, $sha256)
        $request.CertificateExtensions.Add($leafConstraints)
        if ($bucket.Days -eq 'future') {
            $notBefore = $now.AddDays(2); $notAfter = $now.AddDays(367)
        }
        else {
            $notBefore = $now.AddDays(-300); $notAfter = $now.AddDays($bucket.Days)
        }
        $serial = [BitConverter]::GetBytes([long]($i + 1))
        $leaf = $request.Create($ca, $notBefore, $notAfter, $serial)
        [IO.File]::WriteAllText((Join-Path $folder "leaf-$i.pem"), $leaf.ExportCertificatePem())
        $leaf.Dispose()
        $previous = if ($expected.ContainsKey($bucket.Status)) { $expected[$bucket.Status] } else { 0 }
        $expected[$bucket.Status] = $previous + 1
    }
    $expected
}
