# Runs one step of a store test in this (child) process: imports the module, runs the step's script with its
# arguments and prints the result as one '#RESULT#' JSON line. A terminating error becomes an object with its
# ErrorId, so the parent can assert on it. Started by Invoke-IsolatedStep in tests/CertificateStore.Tests.ps1.
param(
    [Parameter(Mandatory)]
    [string]
    $StepFile
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$step = Get-Content -LiteralPath $StepFile -Raw | ConvertFrom-Json
Import-Module $step.Manifest
$block = [scriptblock]::Create($step.Script)
$arguments = @($step.Arguments)
$result = try {
    & $block @arguments
}
catch {
    [pscustomobject]@{ ErrorId = $_.FullyQualifiedErrorId; Message = $_.Exception.Message }
}
'#RESULT#' + (ConvertTo-Json -InputObject @($result) -Depth 4 -Compress)
