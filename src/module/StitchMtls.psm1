# Loads the cmdlet assembly built for this edition of PowerShell. Only net8.0 exists so far; Windows
# PowerShell 5.1 will load a net472 build from bin/net472 once it is added.
$framework = if ($PSEdition -eq 'Core') { 'net8.0' } else { 'net472' }
$assembly = Join-Path $PSScriptRoot "bin/$framework/StitchMtls.dll"
if (-not (Test-Path -LiteralPath $assembly)) {
    throw "StitchMtls has no build for PowerShell $($PSVersionTable.PSVersion) ($PSEdition); it needs PowerShell 7.4 or later."
}

Import-Module -Name $assembly -ErrorAction Stop
