@{
    # The cmdlet assembly itself: a script root module costs about 0.1 s on every import (measured in
    # docs/benchmarks.md). Windows PowerShell 5.1 stops at PowerShellVersion below with a clear message; its net472
    # build will come with a small loader assembly that picks the right build.
    RootModule           = 'bin/net8.0/StitchMtls.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0c7f55-3b8e-4d0a-9d5e-2f4b8f3c1a70'
    Author               = 'StitchMtls'
    CompanyName          = 'StitchMtls'
    Copyright            = '(c) StitchMtls. MIT licence.'
    Description          = 'Client side of mutual-TLS access to the Stitch payments API: key and CSR in files or the certificate store, chain import, connection test, access tokens and API calls, expiry monitoring, renewal and removal.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('StitchMtls.Format.ps1xml')
    TypesToProcess       = @('StitchMtls.Types.ps1xml')
    FunctionsToExport    = @()
    CmdletsToExport      = @(
        'New-StitchCsr'
        'Import-StitchChain'
        'Test-StitchMtls'
        'Get-StitchCertExpiry'
        'Get-StitchMtlsEndpoint'
        'Grant-StitchKeyAccess'
        'Export-StitchCertificate'
        'Get-StitchAccessToken'
        'Invoke-StitchApi'
        'New-StitchRenewalRequest'
        'Complete-StitchRenewal'
        'Undo-StitchRenewal'
        'Remove-StitchCertificate'
        'Register-StitchExpiryTask'
    )
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Stitch', 'mTLS', 'TLS', 'Certificate', 'CSR', 'PKI')
            ProjectUri = 'https://github.com/stitchmtls/StitchMtls'
        }
    }
}
