<#
.SYNOPSIS
    The Stitch mTLS onboarding flow end to end, against the local gateway, with the module's cmdlets.

.DESCRIPTION
    Run through build.ps1 -Task Demo. Starts the local gateway (its own private CA, like Stitch's), then:
    New-StitchCsr -> the signing desk (what Stitch's onboarding team does) -> Import-StitchChain ->
    Test-StitchMtls with client credentials -> Get-StitchCertExpiry -> Get-StitchAccessToken and
    Invoke-StitchApi -> a renewal with a new key, tested against the gateway before the switch. Exits non-zero if
    any step fails.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModuleManifest
)

$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'common/Gateway.ps1')
Import-Module $ModuleManifest -Force

function Write-Step {
    param([int] $Number, [string] $Title)
    Write-Host ''
    Write-Host "== Step $Number. $Title" -ForegroundColor Cyan
}

$workspace = Join-Path ([System.IO.Path]::GetTempPath()) `
    ("stitchmtls-demo-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Path $workspace | Out-Null
$gateway = $null
$failed = $false
try {
    $clientId = 'demo-client'
    # A throwaway secret for the local gateway only; it is never printed.
    $secret = [Convert]::ToBase64String([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(24))
    $credential = [pscredential]::new($clientId, (ConvertTo-SecureString $secret -AsPlainText -Force))
    $commonName = 'stitch-demo.example.com'

    Write-Host "Workspace: $workspace"
    $pki = New-TestPki -Path (Join-Path $workspace 'gateway-pki')
    $gateway = Start-TestGateway -Pki $pki -AllowedCommonName $commonName -ClientId $clientId -ClientSecret $secret
    Write-Host "Local mTLS gateway listening on $($gateway.Uri) (stands in for https://secure.mtls.stitch.money)"

    Write-Step 1 'Generate the private key and CSR (RSA 4096, SHA-256, C/O/CN)'
    $client = Join-Path $workspace 'client'
    New-Item -ItemType Directory -Path $client | Out-Null
    $csr = New-StitchCsr -CommonName $commonName -Organization 'Example Ltd' -Country ZA -Path $client
    $csr | Format-List | Out-String | Write-Host

    Write-Step 2 'Send the CSR to Stitch (here: the gateway''s signing desk) and receive the signed chain'
    $signed = Join-Path $client 'from-stitch.pem'
    $null = Invoke-TestSigningDesk -Pki $pki -CsrPath $csr.CsrPath -OutFile $signed
    Write-Host ("Received $signed " +
        "($(([regex]::Matches((Get-Content $signed -Raw), 'BEGIN CERTIFICATE')).Count) certificates)")

    Write-Step 3 'Import the chain: match it to the key, order and validate it'
    $chain = Import-StitchChain -Path $signed -KeyPath $csr.KeyPath
    $chain | Format-List | Out-String | Write-Host

    Write-Step 4 'Test the mTLS connection and the client-credentials token request'
    $test = Test-StitchMtls -Endpoint $gateway.Uri -CertificatePath $chain.ChainPath -KeyPath $csr.KeyPath `
        -Credential $credential -ServerCertificateAuthority $pki.Root
    $test | Format-List | Out-String | Write-Host
    if (-not $test.Success) { throw "Test-StitchMtls failed: $($test.Diagnosis)" }

    Write-Step 5 'Watch expiry (Stitch reminds at 60, 30, 14 and 7 days)'
    $expiry = Get-StitchCertExpiry -Path $chain.ChainPath
    $expiry | Format-Table | Out-String | Write-Host
    if ($expiry.Status -ne 'Ok') { throw "Unexpected expiry status $($expiry.Status)." }

    Write-Step 6 'Get a token and call the GraphQL API over the same mTLS connection'
    $token = Get-StitchAccessToken -Endpoint $gateway.Uri -CertificatePath $chain.ChainPath -KeyPath $csr.KeyPath `
        -Credential $credential -Scope client_paymentrequest -ServerCertificateAuthority $pki.Root
    $token | Format-Table | Out-String | Write-Host
    $data = $token | Invoke-StitchApi -Endpoint $gateway.Uri -Query '{ __typename }'
    Write-Host "GraphQL answered __typename = $($data.__typename)"
    if ($data.__typename -ne 'Query') { throw 'Invoke-StitchApi did not return the GraphQL data.' }

    Write-Step 7 'Renew: a new key and a CSR with exactly the current subject; the current pair keeps working'
    $renewal = New-StitchRenewalRequest -CertificatePath $chain.ChainPath
    $renewal | Format-List CommonName, Subject, CurrentThumbprint, PendingKeyPath, CsrPath, RecordPath |
        Out-String | Write-Host

    Write-Step 8 'Complete the renewal: install beside the current pair, test against the gateway, then switch'
    $renewed = Join-Path $client 'renewed-from-stitch.pem'
    $null = Invoke-TestSigningDesk -Pki $pki -CsrPath $renewal.CsrPath -OutFile $renewed
    $switched = Complete-StitchRenewal -Path $renewed -CertificatePath $chain.ChainPath -Endpoint $gateway.Uri `
        -Credential $credential -ServerCertificateAuthority $pki.Root
    $switched | Format-Table | Out-String | Write-Host
    Get-ChildItem -LiteralPath $client -Name | Out-String | Write-Host

    Write-Host 'Demo complete: every step succeeded.' -ForegroundColor Green
}
catch {
    $failed = $true
    Write-Host "Demo failed: $($_.Exception.Message)" -ForegroundColor Red
}
finally {
    if ($gateway) { Stop-TestGateway -Gateway $gateway }
    Remove-Item -LiteralPath $workspace -Recurse -Force -ErrorAction SilentlyContinue
}

if ($failed) { exit 1 }
