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
