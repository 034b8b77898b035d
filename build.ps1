<#
.SYNOPSIS
    Builds, tests and demonstrates the StitchMtls module.

.DESCRIPTION
    Build  compiles the solution and assembles the module in output/StitchMtls/<version>/.
    Test   builds, then runs the C# unit tests and the Pester suites, and ends with one line
           'N passed, N failed, N skipped' summing every suite; the exit code is non-zero on any failure.
    Demo   builds, starts the local mTLS gateway and walks the whole onboarding flow with the module's cmdlets.
    Bench  builds, then measures the module against openssl, curl and a bare pwsh (ratios, interleaved runs)
           and writes docs/benchmarks.md; about six minutes on two cores. Not part of Test.

    On a machine with only the .NET SDK:  dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
    With PowerShell 7.4+ installed:      ./build.ps1 -Task Test

.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Demo
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Bench')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = $PSScriptRoot
$manifest = Import-PowerShellDataFile -LiteralPath (Join-Path $root 'StitchMtls.psd1')
$version = $manifest.ModuleVersion
$moduleDir = Join-Path $root "output/StitchMtls/$version"
$resultsDir = Join-Path $root 'output/TestResults'
$gatewayDll = Join-Path $root "tests/StitchMtls.TestGateway/bin/$Configuration/net10.0/StitchMtls.TestGateway.dll"

function Invoke-Dotnet {
    # A simple function on purpose: $args passes switches such as -c and -v:q through to dotnet untouched.
    & dotnet @args
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE."
    }
}

function Invoke-Build {
    Write-Host "Building StitchMtls $version ($Configuration)" -ForegroundColor Cyan
    # The version comes from the manifest alone, so the module and its assemblies never disagree.
    Invoke-Dotnet build (Join-Path $root 'StitchMtls.sln') -c $Configuration -nologo --verbosity quiet `
        "-p:Version=$version"

    if (Test-Path -LiteralPath $moduleDir) {
        Remove-Item -LiteralPath $moduleDir -Recurse -Force
    }
    $bin = Join-Path $moduleDir 'bin/net8.0'
    New-Item -ItemType Directory -Path $bin -Force | Out-Null
    Copy-Item -LiteralPath (Join-Path $root 'StitchMtls.psd1') -Destination $moduleDir
    Copy-Item -Path (Join-Path $root 'src/module/*') -Destination $moduleDir
    $assemblies = Join-Path $root "src/StitchMtls/bin/$Configuration/net8.0"
    $shipped = 'StitchMtls*.dll', 'System.Security.Cryptography.Pkcs.dll', 'Polly.Core.dll'
    Copy-Item -Path ($shipped | ForEach-Object { Join-Path $assemblies $_ }) -Destination $bin
    # Get-Help reads MAML; it is made from docs/en-US in a child process, which imports the module it describes.
    $helpFile = Join-Path $moduleDir 'en-US/StitchMtls.dll-Help.xml'
    New-Item -ItemType Directory -Path (Split-Path $helpFile) -Force | Out-Null
    # The same PowerShell as this one: 'dotnet pwsh' runs as dotnet with pwsh.dll, an installed pwsh as itself.
    $powershell = [Environment]::ProcessPath
    $hostArguments = @(
        if ([IO.Path]::GetFileNameWithoutExtension($powershell) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' }
    )
    & $powershell @hostArguments -NoProfile -NonInteractive -File (Join-Path $root 'docs/ConvertTo-Maml.ps1') `
        -ModuleManifest (Join-Path $moduleDir 'StitchMtls.psd1') -OutFile $helpFile
    if ($LASTEXITCODE -ne 0) {
        throw 'Converting docs/en-US to MAML failed.'
    }
    Write-Host "Module: $moduleDir"
}

function Get-PesterModulePath {
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else {
        ((& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
    }
    $path = Join-Path $packages 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path -LiteralPath $path)) {
        throw "Pester 5.7.1 is not in the NuGet package folder ($packages). Run 'dotnet restore StitchMtls.sln'."
    }
    $path
}

function Invoke-UnitTests {
    $trx = Join-Path $resultsDir 'core.trx'
    Remove-Item -LiteralPath $trx -ErrorAction SilentlyContinue
    & dotnet test (Join-Path $root 'tests/StitchMtls.Core.Tests') -c $Configuration --no-build -nologo `
        --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' | Out-Host
    if (-not (Test-Path -LiteralPath $trx)) {
        throw 'The C# unit tests produced no results file.'
    }
    $counters = ([xml](Get-Content -LiteralPath $trx -Raw)).TestRun.ResultSummary.Counters
    [pscustomobject]@{
        Suite   = 'C# unit tests'
        Passed  = [int]$counters.passed
        Failed  = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        Skipped = [int]$counters.notExecuted
    }
}

function Invoke-PesterTests {
    Import-Module (Get-PesterModulePath) -Force
    $env:STITCH_MODULE_MANIFEST = Join-Path $moduleDir 'StitchMtls.psd1'
    $env:STITCH_GATEWAY_DLL = $gatewayDll
    $config = New-PesterConfiguration
    $config.Run.Path = Join-Path $root 'tests'
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Detailed'
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputPath = Join-Path $resultsDir 'pester.xml'
    $result = Invoke-Pester -Configuration $config
    [pscustomobject]@{
        Suite   = 'Pester'
        Passed  = $result.PassedCount
        Failed  = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
        Skipped = $result.SkippedCount
    }
}

function Invoke-Test {
    Invoke-Build
    New-Item -ItemType Directory -Path $resultsDir -Force | Out-Null
    $suites = @(Invoke-UnitTests; Invoke-PesterTests)
    $suites | Format-Table -AutoSize | Out-String | Write-Host

    $passed = ($suites | Measure-Object Passed -Sum).Sum
    $failed = ($suites | Measure-Object Failed -Sum).Sum
    $skipped = ($suites | Measure-Object Skipped -Sum).Sum
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0 -or $passed -eq 0) {
        exit 1
    }
}

function Invoke-Demo {
    Invoke-Build
    $env:STITCH_GATEWAY_DLL = $gatewayDll
    & (Join-Path $root 'tests/Demo.ps1') -ModuleManifest (Join-Path $moduleDir 'StitchMtls.psd1')
    if (-not $?) {
        exit 1
    }
}

function Invoke-Bench {
    Invoke-Build
    $env:STITCH_GATEWAY_DLL = $gatewayDll
    & (Join-Path $root 'tests/bench/Invoke-Benchmark.ps1') -ModuleManifest (Join-Path $moduleDir 'StitchMtls.psd1') `
        -OutFile (Join-Path $root 'docs/benchmarks.md') -CacheDir (Join-Path $root 'output/bench-cache')
    if (-not $?) {
        exit 1
    }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
}
