BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')

    $pki = New-TestPki -Path (Join-Path $TestDrive 'pki')
    $work = Join-Path $TestDrive 'work'
    New-Item -ItemType Directory -Path $work | Out-Null
    $csr = New-StitchTestCsr -Folder $work
    $signed = Join-Path $work 'from-stitch.pem'
    Invoke-TestSigningDesk -Pki $pki -CsrPath $csr.CsrPath -OutFile $signed
    $leaf, $intermediate, $root = Split-PemCertificates -Path $signed -OutDir $work `
        -Names 'leaf.pem', 'intermediate.pem', 'root.pem'
    $expectedChain = ((Get-Content -LiteralPath $leaf, $intermediate, $root -Raw) -join
        "`n" -replace '\r', '' -replace '\n+', "`n").Trim()

    function Copy-Key {
        # A fresh folder holding the key, so each case writes its own chain file.
        param([string] $Name)
        $folder = Join-Path $TestDrive $Name
        New-Item -ItemType Directory -Path $folder | Out-Null
        Copy-Item -LiteralPath $csr.KeyPath -Destination $folder
        Join-Path $folder 'stitch-mtls.key'
    }

    function Join-Pem {
        param([string] $Path, [string[]] $Parts)
        # The parts have no final newline, as files often arrive: a naive concatenation glues the blocks.
        Set-Content -LiteralPath $Path -Value ((Get-Content -LiteralPath $Parts -Raw) -join '') -NoNewline
        $Path
    }
}

Describe 'Import-StitchChain' {
    It 'writes the same ordered chain from <Case>' -TestCases @(
        @{ Case = 'one PEM in order'; Order = 'leaf', 'intermediate', 'root'; OneFile = $true; Reordered = $false }
        @{ Case = 'three files'; Order = 'leaf', 'intermediate', 'root'; OneFile = $false; Reordered = $false }
        @{ Case = 'one PEM root first'; Order = 'root', 'intermediate', 'leaf'; OneFile = $true; Reordered = $true }
        @{ Case = 'intermediate, leaf, root'; Order = 'intermediate', 'leaf', 'root'; OneFile = $true
           Reordered = $true }
        @{ Case = 'three files root first'; Order = 'root', 'intermediate', 'leaf'; OneFile = $false
           Reordered = $true }
    ) {
        $keyPath = Copy-Key ($Case -replace '\W', '-')
        $parts = $Order | ForEach-Object { Join-Path $work "$_.pem" }
        $inputs = if ($OneFile) { Join-Pem -Path (Join-Path $TestDrive "$($Case -replace '\W', '-').pem") `
                                      -Parts $parts }
                  else { $parts }

        $result = Import-StitchChain -Path $inputs -KeyPath $keyPath -WarningVariable warnings `
            -WarningAction SilentlyContinue

        $result.ChainPath | Should -Be (Join-Path (Split-Path $keyPath) 'stitch-mtls-chain.pem')
        ((Get-Content -LiteralPath $result.ChainPath -Raw) -replace '\n+', "`n").Trim() | Should -Be $expectedChain
        @($warnings | Where-Object { $_ -like '*not in the order leaf, intermediate, root*' }).Count |
            Should -Be ([int]$Reordered)
        $result.CommonName | Should -Be 'stitch-test.example.com'
        $result.DaysRemaining | Should -BeIn 364, 365
    }

    It 'writes a chain that openssl verify accepts' {
        $keyPath = Copy-Key 'openssl-verify'
        $result = Import-StitchChain -Path $signed -KeyPath $keyPath
        $l, $i, $r = Split-PemCertificates -Path $result.ChainPath -OutDir (Split-Path $keyPath) `
            -Names 'l.pem', 'i.pem', 'r.pem'

        Invoke-OpenSsl verify -CAfile $r -untrusted $i $l | Should -Match ': OK'
    }

    It 'accepts chains through the pipeline' {
        $keyPath = Copy-Key 'pipeline'
        $result = Get-ChildItem -LiteralPath $work -Filter '*.pem' |
            Where-Object Name -in 'root.pem', 'leaf.pem', 'intermediate.pem' |
            Import-StitchChain -KeyPath $keyPath -WarningAction SilentlyContinue
        ((Get-Content -LiteralPath $result.ChainPath -Raw) -replace '\n+', "`n").Trim() | Should -Be $expectedChain
    }

    It 'loads the key as <Format>' -TestCases @(
        @{ Format = 'PKCS#1'; Convert = { param($in, $out) Invoke-OpenSsl pkey -in $in -traditional -out $out }
           Password = $null }
        @{ Format = 'PKCS#8'; Convert = { param($in, $out) Copy-Item $in $out }; Password = $null }
        @{ Format = 'encrypted PKCS#8'; Password = 'pa55 word'
           Convert = { param($in, $out)
               Invoke-OpenSsl pkcs8 -topk8 -v2 aes-256-cbc -in $in -out $out -passout 'pass:pa55 word' } }
        @{ Format = 'PKCS#1 with CRLF and a UTF-8 BOM'; Password = $null
           Convert = { param($in, $out)
               $pem = (Invoke-OpenSsl pkey -in $in -traditional) -replace '\r?\n', "`r`n"
               [System.IO.File]::WriteAllText($out, $pem, [System.Text.UTF8Encoding]::new($true)) } }
    ) {
        $folder = Join-Path $TestDrive ('format-' + ($Format -replace '\W', '-'))
        New-Item -ItemType Directory -Path $folder | Out-Null
        $keyPath = Join-Path $folder 'stitch-mtls.key'
        & $Convert $csr.KeyPath $keyPath | Out-Null
        $securePassword = if ($Password) { ConvertTo-SecureString $Password -AsPlainText -Force }

        $result = Import-StitchChain -Path $signed -KeyPath $keyPath -KeyPassword $securePassword

        Test-Path -LiteralPath $result.ChainPath | Should -BeTrue
    }

    It 'tells a wrong key password from a malformed key' {
        $folder = Join-Path $TestDrive 'wrong-password'
        New-Item -ItemType Directory -Path $folder | Out-Null
        $keyPath = Join-Path $folder 'stitch-mtls.key'
        Invoke-OpenSsl pkcs8 -topk8 -v2 aes-256-cbc -in $csr.KeyPath -out $keyPath -passout 'pass:right' | Out-Null
        $wrong = ConvertTo-SecureString 'wrong' -AsPlainText -Force

        { Import-StitchChain -Path $signed -KeyPath $keyPath -KeyPassword $wrong } |
            Should -Throw -ErrorId 'KeyPasswordIncorrect,StitchMtls.Commands.ImportStitchChainCommand'
        { Import-StitchChain -Path $signed -KeyPath $keyPath } |
            Should -Throw -ErrorId 'KeyPasswordRequired,StitchMtls.Commands.ImportStitchChainCommand'
        Set-Content -LiteralPath $keyPath -Value "-----BEGIN PRIVATE KEY-----`nAAAA`n-----END PRIVATE KEY-----"
        { Import-StitchChain -Path $signed -KeyPath $keyPath } |
            Should -Throw -ErrorId 'KeyFileInvalid,StitchMtls.Commands.ImportStitchChainCommand'
        Get-ChildItem -LiteralPath $folder | Should -HaveCount 1
    }

    It 'refuses the key of another certificate and writes nothing' {
        $other = Join-Path $TestDrive 'other'
        New-Item -ItemType Directory -Path $other | Out-Null
        $otherCsr = New-StitchTestCsr -Folder $other

        { Import-StitchChain -Path $signed -KeyPath $otherCsr.KeyPath } |
            Should -Throw -ErrorId 'KeyCertificateMismatch,StitchMtls.Commands.ImportStitchChainCommand'
        Get-ChildItem -LiteralPath $other | Should -HaveCount 2
    }

    It 'names the missing certificate when the chain is incomplete' {
        $keyPath = Copy-Key 'incomplete'
        $thrown = { Import-StitchChain -Path $leaf, $root -KeyPath $keyPath } | Should -Throw -PassThru `
            -ErrorId 'ChainIncomplete,StitchMtls.Commands.ImportStitchChainCommand'
        $thrown.Exception.Message | Should -BeLike '*Intermediate*'
        Test-Path -LiteralPath (Join-Path (Split-Path $keyPath) 'stitch-mtls-chain.pem') | Should -BeFalse
    }

    It 'refuses a chain whose root has the right name but not the right key' {
        $foreign = New-TestPki -Path (Join-Path $TestDrive 'foreign-pki')
        $keyPath = Copy-Key 'untrusted'
        { Import-StitchChain -Path $leaf, $intermediate, $foreign.Root -KeyPath $keyPath } |
            Should -Throw -ErrorId 'ChainUntrusted,StitchMtls.Commands.ImportStitchChainCommand'
    }

    It 'refuses an expired certificate' {
        $expired = New-TestClientCertificate -Pki $pki -CommonName 'stitch-old.example.com' `
            -OutDir (Join-Path $TestDrive 'expired') -ExpiresInDays -1
        { Import-StitchChain -Path $expired.ChainPath -KeyPath $expired.KeyPath } |
            Should -Throw -ErrorId 'CertificateExpired,StitchMtls.Commands.ImportStitchChainCommand'
    }

    It 'refuses a certificate that is not valid yet, with a clock hint' {
        $future = New-TestClientCertificate -Pki $pki -CommonName 'stitch-new.example.com' `
            -OutDir (Join-Path $TestDrive 'future') -ValidFromDays 2
        $thrown = { Import-StitchChain -Path $future.ChainPath -KeyPath $future.KeyPath } | Should -Throw -PassThru `
            -ErrorId 'CertificateNotYetValid,StitchMtls.Commands.ImportStitchChainCommand'
        $thrown.Exception.Message | Should -BeLike '*clock*'
    }

    It 'never overwrites the chain file without -Force' {
        $keyPath = Copy-Key 'overwrite'
        $first = Import-StitchChain -Path $signed -KeyPath $keyPath
        Set-Content -LiteralPath $first.ChainPath -Value 'kept'

        { Import-StitchChain -Path $signed -KeyPath $keyPath } |
            Should -Throw -ErrorId 'FileExists,StitchMtls.Commands.ImportStitchChainCommand'
        Get-Content -LiteralPath $first.ChainPath | Should -Be 'kept'
        Import-StitchChain -Path $signed -KeyPath $keyPath -Force | Out-Null
        ((Get-Content -LiteralPath $first.ChainPath -Raw) -replace '\n+', "`n").Trim() | Should -Be $expectedChain
    }

    It 'writes a PKCS#12 with AES-256 that openssl opens' {
        $keyPath = Copy-Key 'pfx'
        $pfxPath = Join-Path (Split-Path $keyPath) 'stitch-mtls.pfx'
        $password = ConvertTo-SecureString 'pfx pass' -AsPlainText -Force

        $result = Import-StitchChain -Path $signed -KeyPath $keyPath -PfxPath $pfxPath -PfxPassword $password

        $result.PfxPath | Should -Be $pfxPath
        $info = Invoke-OpenSsl pkcs12 -in $pfxPath -info -noout -passin 'pass:pfx pass'
        $info | Should -Match 'AES-256-CBC'
        $info | Should -Not -Match 'RC2|3DES'
        $collection =
            [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadPkcs12CollectionFromFile(
                $pfxPath, 'pfx pass', 'EphemeralKeySet')
        $collection | Should -HaveCount 3
    }

    It 'asks for -PfxPassword rather than writing an unprotected PKCS#12 (<Case>)' -TestCases @(
        @{ Case = 'no password'; Password = $null; Message = '*Supply -PfxPassword*' }
        @{ Case = 'an empty password'; Password = [securestring]::new(); Message = '*-PfxPassword is empty*' }
    ) {
        $keyPath = Copy-Key "pfx-nopass-$([guid]::NewGuid().ToString('N'))"
        $call = { Import-StitchChain -Path $signed -KeyPath $keyPath -PfxPath (Join-Path $TestDrive 'x.pfx') `
            -PfxPassword $Password }
        $failure = $call | Should -Throw -ErrorId 'PfxPasswordRequired,StitchMtls.Commands.ImportStitchChainCommand' `
            -PassThru
        $failure.Exception.Message | Should -BeLike $Message
    }

    It 'writes nothing under -WhatIf' {
        $keyPath = Copy-Key 'whatif'
        Import-StitchChain -Path $signed -KeyPath $keyPath -WhatIf | Should -BeNullOrEmpty
        Get-ChildItem -LiteralPath (Split-Path $keyPath) | Should -HaveCount 1
    }
}
