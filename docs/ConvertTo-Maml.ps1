<#
.SYNOPSIS
    Turns the PlatyPS-layout help in docs/en-US into the MAML file Get-Help reads.

.DESCRIPTION
    PlatyPS itself is not served by the package registry this project uses, so this script does the part of
    its work the module needs: synopsis, description, syntax, parameters, examples, inputs, outputs and notes.
    Syntax and parameter attributes come from the loaded cmdlets themselves, so they cannot drift from the
    code; the prose comes from the markdown.

.EXAMPLE
    ./docs/ConvertTo-Maml.ps1 -ModuleManifest ./output/StitchMtls/0.1.0/StitchMtls.psd1 -OutFile help.xml
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModuleManifest,

    [Parameter(Mandatory)]
    [string] $OutFile,

    [string] $MarkdownFolder = (Join-Path $PSScriptRoot 'en-US')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$module = Import-Module $ModuleManifest -Force -PassThru
# -WhatIf and -Confirm are documented like any other parameter, as PlatyPS does; the rest are common parameters.
$common = [System.Management.Automation.Cmdlet]::CommonParameters +
    @([System.Management.Automation.Cmdlet]::OptionalCommonParameters | Where-Object { $_ -notin 'WhatIf', 'Confirm' })

function Get-MarkdownSection {
    # The text under each '## ' heading, keyed by heading; '### ' headings stay inside their section.
    param([string] $Text)

    $sections = [ordered]@{}
    $name = $null
    foreach ($line in $Text -split '\r?\n') {
        if ($line -match '^## (.+)$') {
            $name = $Matches[1].Trim()
            $sections[$name] = [System.Collections.Generic.List[string]]::new()
        }
        elseif ($name) {
            $sections[$name].Add($line)
        }
    }
    $sections
}

function Split-Paragraph {
    # Prose as paragraphs: blank lines separate them, and fenced code stays out of prose.
    param([string[]] $Lines)

    $paragraphs = [System.Collections.Generic.List[string]]::new()
    $current = [System.Collections.Generic.List[string]]::new()
    $inCode = $false
    foreach ($line in $Lines) {
        if ($line -match '^```') {
            $inCode = -not $inCode
            continue
        }
        if ($inCode) {
            continue
        }
        # A blank line ends a paragraph; a list item or table row starts its own.
        $startsItem = $line -match '^\s*([-*] |\d+\. |\|)'
        if ($line.Trim() -eq '' -or $startsItem) {
            if ($current.Count) { $paragraphs.Add(($current -join ' ')); $current.Clear() }
            if (-not $startsItem) { continue }
        }
        $current.Add($line.Trim())
    }
    if ($current.Count) { $paragraphs.Add(($current -join ' ')) }
    $paragraphs
}

function Get-SubSection {
    # The '### ' blocks of a section, as title and lines.
    param([System.Collections.Generic.List[string]] $Lines)

    $blocks = [System.Collections.Generic.List[object]]::new()
    $block = $null
    foreach ($line in $Lines) {
        if ($line -match '^### (.+)$') {
            $block = [pscustomobject]@{
                Title = $Matches[1].Trim()
                Lines = [System.Collections.Generic.List[string]]::new()
            }
            $blocks.Add($block)
        }
        elseif ($block) {
            $block.Lines.Add($line)
        }
    }
    $blocks
}

function Get-FencedCode {
    # The first fenced code block in Lines, and the prose after it.
    param([System.Collections.Generic.List[string]] $Lines)

    $code = [System.Collections.Generic.List[string]]::new()
    $after = [System.Collections.Generic.List[string]]::new()
    $state = 'before'
    foreach ($line in $Lines) {
        switch ($state) {
            'before' { if ($line -match '^```') { $state = 'code' } }
            'code' { if ($line -match '^```') { $state = 'after' } else { $code.Add($line) } }
            'after' { $after.Add($line) }
        }
    }
    [pscustomobject]@{ Code = $code -join "`n"; After = $after }
}

function Write-Paragraphs {
    param([System.Xml.XmlWriter] $Writer, [string[]] $Paragraphs)

    $Writer.WriteStartElement('maml', 'description', $maml)
    foreach ($paragraph in $Paragraphs) {
        $Writer.WriteElementString('maml', 'para', $maml, $paragraph)
    }
    $Writer.WriteEndElement()
}

$maml = 'http://schemas.microsoft.com/maml/2004/10'
$commandNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$dev = 'http://schemas.microsoft.com/maml/dev/2004/10'

$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$writer = [System.Xml.XmlWriter]::Create($OutFile, $settings)
$writer.WriteStartDocument()
$writer.WriteStartElement('helpItems', 'http://msh')
$writer.WriteAttributeString('schema', 'maml')

foreach ($command in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
    $markdownPath = Join-Path $MarkdownFolder "$($command.Name).md"
    if (-not (Test-Path -LiteralPath $markdownPath)) {
        throw "No help page for $($command.Name): $markdownPath is missing."
    }
    $sections = Get-MarkdownSection -Text (Get-Content -LiteralPath $markdownPath -Raw)
    $parameterText = @{}
    $parameterDefault = @{}
    foreach ($block in Get-SubSection $sections['PARAMETERS']) {
        $parameterText[$block.Title.TrimStart('-')] = Split-Paragraph $block.Lines
        $default = $block.Lines | Where-Object { $_ -match '^Default value:\s*(.+)$' } | Select-Object -First 1
        if ($default -and $default -match '^Default value:\s*(.+)$' -and $Matches[1].Trim() -ne 'None') {
            $parameterDefault[$block.Title.TrimStart('-')] = $Matches[1].Trim()
        }
    }

    $writer.WriteStartElement('command', 'command', $commandNs)
    $writer.WriteAttributeString('xmlns', 'maml', $null, $maml)
    $writer.WriteAttributeString('xmlns', 'dev', $null, $dev)

    $writer.WriteStartElement('command', 'details', $commandNs)
    $writer.WriteElementString('command', 'name', $commandNs, $command.Name)
    $writer.WriteElementString('command', 'verb', $commandNs, $command.Verb)
    $writer.WriteElementString('command', 'noun', $commandNs, $command.Noun)
    Write-Paragraphs $writer (Split-Paragraph $sections['SYNOPSIS'])
    $writer.WriteEndElement()

    Write-Paragraphs $writer (Split-Paragraph $sections['DESCRIPTION'])

    $writer.WriteStartElement('command', 'syntax', $commandNs)
    foreach ($set in $command.ParameterSets) {
        $writer.WriteStartElement('command', 'syntaxItem', $commandNs)
        $writer.WriteElementString('maml', 'name', $maml, $command.Name)
        foreach ($parameter in $set.Parameters | Where-Object Name -notin $common) {
            $writer.WriteStartElement('command', 'parameter', $commandNs)
            $writer.WriteAttributeString('required', "$($parameter.IsMandatory)".ToLowerInvariant())
            $position = if ($parameter.Position -ge 0) { "$($parameter.Position)" } else { 'named' }
            $writer.WriteAttributeString('position', $position)
            $writer.WriteElementString('maml', 'name', $maml, $parameter.Name)
            if ($parameter.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
                $writer.WriteElementString('command', 'parameterValue', $commandNs, $parameter.ParameterType.Name)
            }
            $writer.WriteEndElement()
        }
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'parameters', $commandNs)
    foreach ($parameter in $command.Parameters.Values | Where-Object Name -notin $common) {
        $attributes = @($parameter.Attributes |
            Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
        $pipeline = @(
            if ($attributes | Where-Object ValueFromPipeline) { 'ByValue' }
            if ($attributes | Where-Object ValueFromPipelineByPropertyName) { 'ByPropertyName' }
        )
        $positions = @($attributes | Where-Object Position -ge 0 | ForEach-Object Position)
        $writer.WriteStartElement('command', 'parameter', $commandNs)
        $required = "$([bool]($attributes | Where-Object Mandatory))".ToLowerInvariant()
        $position = if ($positions.Count) { "$($positions[0])" } else { 'named' }
        $pipelineInput = if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }
        $aliases = if ($parameter.Aliases.Count) { $parameter.Aliases -join ', ' } else { 'none' }
        $writer.WriteAttributeString('required', $required)
        $writer.WriteAttributeString('position', $position)
        $writer.WriteAttributeString('pipelineInput', $pipelineInput)
        $writer.WriteAttributeString('aliases', $aliases)
        $writer.WriteElementString('maml', 'name', $maml, $parameter.Name)
        $text = if ($parameterText.ContainsKey($parameter.Name)) { $parameterText[$parameter.Name] } else { @() }
        Write-Paragraphs $writer $text
        $writer.WriteElementString('command', 'parameterValue', $commandNs, $parameter.ParameterType.Name)
        if ($parameterDefault.ContainsKey($parameter.Name)) {
            $writer.WriteElementString('dev', 'defaultValue', $dev, $parameterDefault[$parameter.Name])
        }
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    foreach ($kind in 'INPUTS', 'OUTPUTS') {
        $element = if ($kind -eq 'INPUTS') { 'inputTypes' } else { 'returnValues' }
        $writer.WriteStartElement('command', $element, $commandNs)
        foreach ($block in Get-SubSection $sections[$kind]) {
            $item = if ($kind -eq 'INPUTS') { 'inputType' } else { 'returnValue' }
            $writer.WriteStartElement('command', $item, $commandNs)
            $writer.WriteStartElement('dev', 'type', $dev)
            $writer.WriteElementString('maml', 'name', $maml, $block.Title)
            $writer.WriteEndElement()
            Write-Paragraphs $writer (Split-Paragraph $block.Lines)
            $writer.WriteEndElement()
        }
        $writer.WriteEndElement()
    }

    $writer.WriteStartElement('maml', 'alertSet', $maml)
    $writer.WriteStartElement('maml', 'alert', $maml)
    foreach ($paragraph in Split-Paragraph $sections['NOTES']) {
        $writer.WriteElementString('maml', 'para', $maml, $paragraph)
    }
    $writer.WriteEndElement()
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'examples', $commandNs)
    foreach ($block in Get-SubSection $sections['EXAMPLES']) {
        $example = Get-FencedCode $block.Lines
        $writer.WriteStartElement('command', 'example', $commandNs)
        $title = "-------------------------- $($block.Title) --------------------------"
        $writer.WriteElementString('maml', 'title', $maml, $title)
        $writer.WriteElementString('dev', 'code', $dev, $example.Code)
        $writer.WriteStartElement('dev', 'remarks', $dev)
        foreach ($paragraph in Split-Paragraph $example.After) {
            $writer.WriteElementString('maml', 'para', $maml, $paragraph)
        }
        $writer.WriteEndElement()
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteEndElement()
}

$writer.WriteEndElement()
$writer.WriteEndDocument()
$writer.Dispose()
