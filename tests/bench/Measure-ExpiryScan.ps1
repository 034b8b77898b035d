<#
.SYNOPSIS
    One expiry scan in a process of its own, for Invoke-Benchmark.ps1: imports the module, scans a folder with
    Get-StitchCertExpiry and prints one line of JSON with the scan time and the process's peak memory.

.DESCRIPTION
    The peak is the process's resident-set high-water mark (VmHWM on Linux), read after the scan; the same mark
    read after Import-Module and before the scan shows what the scan itself added. The results are kept in a
    variable, as a script that filters or reports them would, so they count towards the peak.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModuleManifest,

    [Parameter(Mandatory)]
    [string] $Folder
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModuleManifest

$process = [System.Diagnostics.Process]::GetCurrentProcess()
$peakBeforeScan = $process.PeakWorkingSet64

$watch = [System.Diagnostics.Stopwatch]::StartNew()
$expiry = @(Get-StitchCertExpiry -LiteralPath $Folder)
$watch.Stop()

$process.Refresh()
$peak = $process.PeakWorkingSet64

[pscustomobject]@{
    Certificates   = $expiry.Count
    NotOk          = @($expiry | Where-Object Status -NE 'Ok').Count
    Seconds        = $watch.Elapsed.TotalSeconds
    PeakBytes      = $peak
    PeakBeforeScan = $peakBeforeScan
} | ConvertTo-Json -Compress
