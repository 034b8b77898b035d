BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'New-StitchCsr' {
    Context 'with the defaults Stitch documents' {
        BeforeAll {
            $folder = Join-Path $TestDrive 'default'
            New-Item -ItemType Directory -Path $folder | Out-Null
            $result = New-StitchCsr -CommonName 'stitch-prod.example.com' -Organization 'Example Ltd' -Path $folder
            $csrText = Invoke-OpenSsl req -in $result.CsrPath -noout -text -verify
        }

        It 'writes stitch-mtls.key and stitch-mtls.csr in the folder' {
            $result.KeyPath | Should -Be (Join-Path $folder 'stitch-mtls.key')
            $result.CsrPath | Should -Be (Join-Path $folder 'stitch-mtls.csr')
            $result.KeyProtection | Should -Be 'Plain'
            Get-Content -LiteralPath $result.KeyPath -TotalCount 1 | Should -Be '-----BEGIN PRIVATE KEY-----'
        }

        It 'makes a CSR that openssl verifies, RSA 4096 signed with SHA-256' {
            $csrText | Should -Match 'self-signature verify OK'
            $csrText | Should -Match 'Public-Key: \(4096 bit\)'
            $csrText | Should -Match 'Signature Algorithm: sha256WithRSAEncryption'
            $result.KeySize | Should -Be 4096
        }

        It 'reports the public key hash openssl computes for the CSR' {
            $der = Join-Path $TestDrive 'pub.der'
            Invoke-OpenSsl req -in $result.CsrPath -noout -pubkey -out (Join-Path $TestDrive 'pub.pem') | Out-Null
            Invoke-OpenSsl pkey -pubin -in (Join-Path $TestDrive 'pub.pem') -outform DER -out $der | Out-Null
            $result.PublicKeySha256 |
                Should -Be (Get-FileHash -LiteralPath $der -Algorithm SHA256).Hash.ToLowerInvariant()
            $result.CsrPem | Should -Be (Get-Content -LiteralPath $result.CsrPath -Raw)
        }

        It 'creates the key readable by its owner only (mode 0600)' {
            if ($IsWindows) {
                Set-ItResult -Skipped -Because 'Unix file modes do not apply on Windows; the ACL test covers it'
                return
            }
            (& stat -c '%a' $result.KeyPath) | Should -Be '600'
        }
    }

    It 'encodes the subject exactly as openssl req -subj does' -TestCases @(
        @{ CN = 'stitch-prod.example.com'; O = 'Example Ltd'; C = 'ZA' }
        @{ CN = 'payments-uat.example.co.za'; O = 'Acme (Pty) Ltd, Cape Town'; C = 'GB' }
    ) {
        $folder = Join-Path $TestDrive "subject-$C"
        New-Item -ItemType Directory -Path $folder | Out-Null
        $ours = New-StitchCsr -CommonName $CN -Organization $O -Country $C -KeySize 2048 -Path $folder `
            -WarningAction Ignore
        $theirs = Join-Path $folder 'openssl.csr'
        Invoke-OpenSsl req -new -newkey rsa:2048 -nodes -sha256 -subj "/C=$C/O=$O/CN=$CN" `
            -keyout (Join-Path $folder 'openssl.key') -out $theirs | Out-Null

        $load = { param($p) [System.Security.Cryptography.X509Certificates.CertificateRequest]::LoadSigningRequestPem(
            (Get-Content -LiteralPath $p -Raw), 'SHA256').SubjectName.RawData }
        [Convert]::ToHexString((& $load $ours.CsrPath)) | Should -Be ([Convert]::ToHexString((& $load $theirs)))
    }

    It 'encrypts the key with AES-256 when given -KeyPassword, and openssl opens it with that password' {
        $folder = Join-Path $TestDrive 'encrypted'
        New-Item -ItemType Directory -Path $folder | Out-Null
        $password = ConvertTo-SecureString 'correct horse battery' -AsPlainText -Force
        $result = New-StitchCsr -CommonName 'stitch-prod.example.com' -Organization 'Example Ltd' -KeySize 2048 `
            -Path $folder -KeyPassword $password -WarningAction Ignore

        $result.KeyProtection | Should -Be 'Encrypted'
        Get-Content -LiteralPath $result.KeyPath -TotalCount 1 | Should -Be '-----BEGIN ENCRYPTED PRIVATE KEY-----'
        Invoke-OpenSsl asn1parse -in $result.KeyPath | Should -Match 'aes-256-cbc'
        Invoke-OpenSsl pkey -in $result.KeyPath -passin 'pass:correct horse battery' -noout | Out-Null
        { Invoke-OpenSsl pkey -in $result.KeyPath -passin 'pass:wrong' -noout } | Should -Throw
    }

    Context 'when the files already exist' {
        BeforeAll {
            $folder = Join-Path $TestDrive 'existing'
            New-Item -ItemType Directory -Path $folder | Out-Null
            $first = New-StitchTestCsr -Folder $folder
            $before = Get-FileHashes $first.KeyPath, $first.CsrPath
        }

        It 'leaves both files unchanged without -Force and names the file in the error' {
            $errors = $null
            $second = New-StitchTestCsr -Folder $folder -ErrorVariable errors -ErrorAction SilentlyContinue

            $second | Should -BeNullOrEmpty
            $errors[0].FullyQualifiedErrorId | Should -Be 'FileExists,StitchMtls.Commands.NewStitchCsrCommand'
            $errors[0].CategoryInfo.Category | Should -Be 'ResourceExists'
            $errors[0].Exception.Message | Should -BeLike "*$($first.KeyPath)*"
            Get-FileHashes $first.KeyPath, $first.CsrPath | Should -Be $before
        }

        It 'refuses when only the CSR exists' {
            Remove-Item -LiteralPath $first.KeyPath
            { New-StitchTestCsr -Folder $folder -ErrorAction Stop } |
                Should -Throw -ErrorId 'FileExists,StitchMtls.Commands.NewStitchCsrCommand'
            Test-Path -LiteralPath $first.KeyPath | Should -BeFalse
        }

        It 'replaces both with -Force' {
            $third = New-StitchCsr -CommonName 'stitch-test.example.com' -Organization 'Example Ltd' -KeySize 2048 `
                -Path $folder -Force -WarningAction Ignore
            (Get-FileHashes $third.CsrPath) | Should -Not -Be $before[1]
            Get-ChildItem -LiteralPath $folder -Force | Should -HaveCount 2
        }
    }

    It 'rejects <Case> with <ErrorId> and writes nothing' -TestCases @(
        @{ Case = 'a CN with a space'; CN = 'stitch prod.example.com'; C = 'ZA'; ErrorId = 'CommonNameInvalid' }
        @{ Case = 'a wildcard CN'; CN = '*.example.com'; C = 'ZA'; ErrorId = 'CommonNameInvalid' }
        @{ Case = 'a three-letter country'; CN = 'stitch-prod.example.com'; C = 'ZAF'; ErrorId = 'CountryInvalid' }
    ) {
        $folder = Join-Path $TestDrive ("bad-" + ($Case -replace "\W", "-"))
        New-Item -ItemType Directory -Path $folder | Out-Null
        { New-StitchCsr -CommonName $CN -Organization 'Example Ltd' -Country $C -Path $folder -ErrorAction Stop } |
            Should -Throw -ErrorId "$ErrorId,StitchMtls.Commands.NewStitchCsrCommand"
        Get-ChildItem -LiteralPath $folder -Force | Should -BeNullOrEmpty
    }

    It 'warns about a smaller key and a CN outside the recommended form' {
        $folder = Join-Path $TestDrive 'warnings'
        New-Item -ItemType Directory -Path $folder | Out-Null
        $null = New-StitchCsr -CommonName 'stitch.example.com' -Organization 'Example Ltd' -KeySize 2048 `
            -Path $folder -WarningVariable warnings -WarningAction SilentlyContinue

        $warnings | Should -HaveCount 2
        ($warnings -join ' ') | Should -BeLike '*<purpose>-<environment>.<domain>*'
        ($warnings -join ' ') | Should -BeLike '*4096*'
    }

    It 'writes nothing under -WhatIf' {
        $folder = Join-Path $TestDrive 'whatif'
        New-Item -ItemType Directory -Path $folder | Out-Null
        New-StitchCsr -CommonName 'stitch-prod.example.com' -Organization 'Example Ltd' -Path $folder -WhatIf |
            Should -BeNullOrEmpty
        Get-ChildItem -LiteralPath $folder -Force | Should -BeNullOrEmpty
    }

    It 'under -WhatIf names a missing folder and says nothing was changed' {
        $folder = Join-Path $TestDrive 'whatif-missing'

        $failure = { New-StitchCsr -CommonName 'stitch-prod.example.com' -Organization 'Example Ltd' -Path $folder `
                -WhatIf -ErrorAction Stop } |
            Should -Throw -ErrorId 'FolderNotFound,StitchMtls.Commands.NewStitchCsrCommand' -PassThru

        "$failure" | Should -BeLike "*folder '$folder' does not exist*Create the folder first*"
        "$failure" | Should -BeLike '*-WhatIf: nothing was changed*'
        $folder | Should -Not -Exist
    }

    It 'takes its input from the pipeline by property name' {
        $folder = Join-Path $TestDrive 'pipeline'
        New-Item -ItemType Directory -Path $folder | Out-Null
        $results = @(
            [pscustomobject]@{ CommonName = 'stitch-prod.example.com'; Organization = 'Example Ltd'; Name = 'prod' }
            [pscustomobject]@{ CommonName = 'stitch-uat.example.com'; Organization = 'Example Ltd'; Name = 'uat' }
        ) | New-StitchCsr -KeySize 2048 -Path $folder -WarningAction Ignore

        $results.CommonName | Should -Be 'stitch-prod.example.com', 'stitch-uat.example.com'
        Test-Path -LiteralPath (Join-Path $folder 'uat.csr') | Should -BeTrue
    }

    It 'writes nothing when stopped during key generation' {
        $folder = Join-Path $TestDrive 'stopped'
        New-Item -ItemType Directory -Path $folder | Out-Null
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddCommand('Import-Module').AddParameter('Name', $ModuleManifest).AddStatement()
            $null = $shell.AddCommand('New-StitchCsr').AddParameter('CommonName', 'stitch-prod.example.com').
                AddParameter('Organization', 'Example Ltd').AddParameter('Path', $folder).AddParameter('Verbose')
            $running = $shell.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while (-not (@($shell.Streams.Verbose | ForEach-Object Message) -like 'Generating*') -and
                [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 20
            }
            $shell.Stop()
            # Key generation runs on; give it time to finish, then nothing may have been written.
            Start-Sleep -Seconds 6
            Get-ChildItem -LiteralPath $folder -Force | Should -BeNullOrEmpty
            $running.IsCompleted | Should -BeTrue
        }
        finally {
            $shell.Dispose()
        }
    }

    It 'creates the key with an owner-only ACL on Windows' {
        if (-not $IsWindows) {
            Set-ItResult -Skipped -Because 'NTFS ACLs exist only on Windows; mode 0600 is tested here instead'
            return
        }
        $folder = Join-Path $TestDrive 'acl'
        New-Item -ItemType Directory -Path $folder | Out-Null
        $result = New-StitchTestCsr -Folder $folder
        $acl = Get-Acl -LiteralPath $result.KeyPath
        $acl.AreAccessRulesProtected | Should -BeTrue
        $acl.Access.IdentityReference.Value | Should -Be ([Security.Principal.WindowsIdentity]::GetCurrent().Name)
    }
}
