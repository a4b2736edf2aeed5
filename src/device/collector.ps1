<#
.SYNOPSIS
  enroll-doctor device collector. Read-only. Writes ONE JSON file (schema enroll-doctor/device-report@1)
  for `enroll-doctor diagnose FILE`.
.DESCRIPTION
  Runs in Windows PowerShell 5.1 and PowerShell 7, in Full and in Constrained Language Mode
  (AppLocker / WDAC): it uses cmdlets, native Windows tools and allowed types only.

  Run it in two parts:
    1. In a normal (NOT elevated) PowerShell of the signed-in user:
         powershell -ExecutionPolicy Bypass -File collect.ps1 -Out part1.json
       dsregcmd /status must run as that user: PRT, MDM URL and WorkplaceJoined are per user.
    2. In an elevated PowerShell on the same device:
         powershell -ExecutionPolicy Bypass -File collect.ps1 -Merge part1.json -Out report.json
       Part 2 keeps part 1's dsregcmd output and gathers the rest again with admin rights.
  Needs elevation: the EnterpriseMgmt scheduled tasks, the TPM state (Get-Tpm, Win32_Tpm,
  tpmtool) and the OMADM account keys; a log or key an unelevated run cannot read is named in
  collector.notes. Works without it: dsregcmd, the event logs, the other registry values,
  hardware identity, Windows version, WinHTTP proxy, endpoint probes and w32tm.
  Either part alone still gives a valid file; collector.notes says what is missing.

  Relative -Out and -Merge paths are resolved against the current folder. Without -Out the file
  goes to the Desktop (else Documents, else the current folder), never under the Windows folder
  (an elevated prompt starts in System32).

  What it runs, all read-only: dsregcmd /status; Get-WinEvent -FilterHashtable (bounded by
  -Days and -MaxEvents); Get-Item / Get-ItemProperty / Get-ChildItem on a fixed list of registry
  keys; Get-ScheduledTask / Get-ScheduledTaskInfo; Get-CimInstance (Win32_ComputerSystem,
  Win32_BIOS, Win32_Tpm); Get-Tpm; tpmtool getdeviceinformation; netsh winhttp show proxy;
  w32tm /query /status; Resolve-DnsName and Invoke-WebRequest to the enrollment, registration
  and sign-in endpoints of the device's cloud (through the WinHTTP proxy when one is set, as the
  SYSTEM account would). -NoNetwork skips the probes. It changes no setting.
#>
[CmdletBinding()]
param(
    [string]$Out,
    [string]$Merge,
    [int]$MaxEvents = 500,
    [int]$Days = 14,
    [switch]$NoNetwork
)
Set-StrictMode -Version 1
$ErrorActionPreference = 'Continue'
$CollectorVersion = '2'
$script:Notes = @()
$IsFullLanguage = ([string]$ExecutionContext.SessionState.LanguageMode -eq 'FullLanguage')
$Since = (Get-Date).AddDays(-$Days)

function Add-Note([string]$Text) { $script:Notes += $Text }

function Get-RunContext {
    $user = "$env:USERDOMAIN\$env:USERNAME"
    $sid = $null
    $elevated = $null
    try {
        $who = @(& "$env:SystemRoot\System32\whoami.exe" /user /fo csv /nh 2>$null)
        if ($who.Count -gt 0) {
            $parts = @($who[0] -split '","')
            $user = $parts[0].Trim('"')
            $sid = $parts[$parts.Count - 1].Trim('"')
        }
        # High (S-1-16-12288) or System (S-1-16-16384) mandatory level: an elevated token.
        $groups = (@(& "$env:SystemRoot\System32\whoami.exe" /groups /fo csv /nh 2>$null)) -join "`n"
        $elevated = ($groups -like '*S-1-16-12288*') -or ($groups -like '*S-1-16-16384*')
    } catch { Add-Note "whoami: $($_.Exception.Message)" }
    $now = Get-Date
    [ordered]@{
        user             = $user
        elevated         = $elevated
        isSystem         = ($sid -eq 'S-1-5-18')
        collectedAt      = $now.ToUniversalTime().ToString('o')
        utcOffsetMinutes = [int](($now - $now.ToUniversalTime()).TotalMinutes)
        languageMode     = [string]$ExecutionContext.SessionState.LanguageMode
        psVersion        = [string]$PSVersionTable.PSVersion
    }
}

function Test-UnderWindows([string]$Path) {
    $Path -like "$($env:SystemRoot.TrimEnd('\'))\*" -or $Path -eq $env:SystemRoot
}

# Where a file goes when -Out is not given (or is relative and would land under Windows).
function Get-DefaultFolder {
    $candidates = @()
    try {
        $shell = Get-ItemProperty -LiteralPath 'Registry::HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders' -ErrorAction Stop
        $candidates += $shell.Desktop
        $candidates += $shell.Personal
    } catch { }
    if ($env:USERPROFILE) { $candidates += (Join-Path $env:USERPROFILE 'Desktop') }
    $candidates += (Get-Location -PSProvider FileSystem).ProviderPath
    if ($env:PUBLIC) { $candidates += $env:PUBLIC }
    foreach ($c in $candidates) {
        if ($c -and -not (Test-UnderWindows $c) -and (Test-Path -LiteralPath $c -PathType Container)) { return $c }
    }
    $env:TEMP
}

function Resolve-OutFile([string]$Path) {
    $default = Get-DefaultFolder
    if (-not $Path) { return (Join-Path $default "$env:COMPUTERNAME-enroll-doctor.json") }
    if (Split-Path -Path $Path -IsAbsolute) { $full = $Path }
    else { $full = Join-Path (Get-Location -PSProvider FileSystem).ProviderPath $Path }
    if (-not (Split-Path -Path $Path -IsAbsolute) -and (Test-UnderWindows $full)) {
        $moved = Join-Path $default (Split-Path -Path $Path -Leaf)
        Write-Warning "not writing under $env:SystemRoot; writing $moved instead"
        return $moved
    }
    $parent = Split-Path -Path $full -Parent
    if ($parent -and -not (Test-Path -LiteralPath $parent -PathType Container)) { throw "folder not found: $parent" }
    $full
}

function Resolve-InFile([string]$Path) {
    $tried = @()
    if (Split-Path -Path $Path -IsAbsolute) { $tried += $Path }
    else {
        $tried += (Join-Path (Get-Location -PSProvider FileSystem).ProviderPath $Path)
        $tried += (Join-Path (Get-DefaultFolder) $Path)
    }
    foreach ($t in $tried) { if (Test-Path -LiteralPath $t -PathType Leaf) { return (Resolve-Path -LiteralPath $t).ProviderPath } }
    throw "file not found: $($tried -join '; also looked for ')"
}

function Get-Dsregcmd {
    $run = Get-RunContext
    $run.output = $null
    $run.error = $null
    try { $run.output = (& "$env:SystemRoot\System32\dsregcmd.exe" /status | Out-String) }
    catch { $run.error = $_.Exception.Message }
    $run
}

# Raw text of a native tool, or the reason it could not run.
function Get-ToolOutput([string]$Exe, [string[]]$Arguments) {
    $r = [ordered]@{ command = "$(Split-Path -Path $Exe -Leaf) $($Arguments -join ' ')"; output = $null; exitCode = $null; error = $null }
    if (-not (Test-Path -LiteralPath $Exe -PathType Leaf)) { $r.error = "not found: $Exe"; return $r }
    try {
        $r.output = (& $Exe @Arguments 2>&1 | Out-String)
        $r.exitCode = $LASTEXITCODE
    } catch { $r.error = $_.Exception.Message }
    $r
}

# Each log: the event IDs the checks read (FilterHashtable takes ~20 IDs a query, so in groups),
# or all events of a quiet log. Busy logs would push enrollment events out of a plain "newest N".
$LogQueries = @(
    @{ name = 'Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin'
       groups = @(@(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 52, 59),
                  @(71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90),
                  @(91, 92)) },
    @{ name = 'Microsoft-Windows-TaskScheduler/Operational'
       groups = @(@(100, 101, 102, 103, 107, 110, 201, 202, 203, 7016)) },
    @{ name = 'Microsoft-Windows-AAD/Operational'; levels = @(1, 2, 3) },
    @{ name = 'Microsoft-Windows-User Device Registration/Admin' },
    @{ name = 'Microsoft-Windows-ModernDeployment-Diagnostics-Provider/Autopilot' }
)

function Get-LogExport($Query) {
    $name = $Query.name
    $entry = [ordered]@{ name = $name; enabled = $null; oldestRecord = $null; recordCount = $null; since = $Since.ToUniversalTime().ToString('o'); error = $null; events = @() }
    try {
        $log = Get-WinEvent -ListLog $name -ErrorAction Stop
        $entry.enabled = $log.IsEnabled
        $entry.recordCount = $log.RecordCount
        $oldest = Get-WinEvent -LogName $name -Oldest -MaxEvents 1 -ErrorAction SilentlyContinue
        if ($oldest) { $entry.oldestRecord = $oldest.TimeCreated.ToUniversalTime().ToString('o') }
        $filters = @()
        if ($Query.groups) { foreach ($g in $Query.groups) { $filters += @{ LogName = $name; StartTime = $Since; Id = $g } } }
        elseif ($Query.levels) { $filters += @{ LogName = $name; StartTime = $Since; Level = $Query.levels } }
        else { $filters += @{ LogName = $name; StartTime = $Since } }
        $found = @()
        foreach ($f in $filters) { $found += @(Get-WinEvent -FilterHashtable $f -MaxEvents ($MaxEvents * 4) -ErrorAction SilentlyContinue) }
        $events = $found | Where-Object { $_ } |
            # Task Scheduler: only the EnterpriseMgmt tasks matter (7016 is kept whatever its task).
            Where-Object { $_.Id -eq 7016 -or $_.ProviderName -notlike '*TaskScheduler*' -or (@($_.Properties | ForEach-Object { [string]$_.Value }) -join ' ') -like '*EnterpriseMgmt*' } |
            Sort-Object -Property RecordId -Descending |
            Select-Object -First $MaxEvents
        # Same property names as Get-WinEvent | ConvertTo-Json, with insertion strings kept.
        $entry.events = @($events | ForEach-Object {
            [ordered]@{
                Id           = $_.Id
                Level        = [int]$_.Level
                RecordId     = $_.RecordId
                ProviderName = $_.ProviderName
                LogName      = $_.LogName
                TimeCreated  = $_.TimeCreated.ToUniversalTime().ToString('o')
                Properties   = @($_.Properties | ForEach-Object { [string]$_.Value })
                Message      = $_.Message
            }
        })
    } catch { $entry.error = $_.Exception.Message }
    $entry
}

# One registry value as Get-ItemProperty returns it; the type follows from the .NET type
# (REG_EXPAND_SZ arrives expanded, as REG_SZ).
function ConvertTo-RegValue([string]$Name, $Value) {
    $type = 'REG_SZ'
    $data = $Value
    if ($null -eq $Value) { $type = 'REG_NONE' }
    elseif ($Value -is [int]) { $type = 'REG_DWORD'; $data = [int64]$Value; if ($data -lt 0) { $data = $data + 4294967296 } }
    elseif ($Value -is [long]) { $type = 'REG_QWORD'; $data = [string]$Value }
    elseif ($Value -is [array]) {
        $items = @($Value)
        if ($items.Count -eq 0 -or $items[0] -is [byte]) {
            $type = 'REG_BINARY'
            $data = (@($items | Select-Object -First 4096 | ForEach-Object { '{0:x2}' -f $_ })) -join ''
        } else { $type = 'REG_MULTI_SZ'; $data = @($items | ForEach-Object { [string]$_ }) }
    } else { $data = [string]$Value }
    [ordered]@{ name = $Name; type = $type; data = $data }
}

function Get-RegKeyValues($Item, [string[]]$Names) {
    $path = 'Registry::' + $Item.Name
    $values = @()
    $props = Get-ItemProperty -LiteralPath $path -ErrorAction SilentlyContinue
    foreach ($n in @($Item.Property)) {
        if (-not $n) { continue }
        if ($Names -and -not ($Names -contains $n)) { continue }
        $v = $null
        if ($props) { $v = $props.$n }
        $shown = $n
        if ($n -eq '(default)') { $shown = '' }
        $values += ConvertTo-RegValue $shown $v
    }
    [ordered]@{ path = $Item.Name; values = @($values) }
}

# A key and its subkeys down to -Depth (at most 400 keys), or only the named values of the key.
function Get-RegSnapshot([string]$Key, [int]$Depth = 0, [string[]]$Names = @()) {
    $entry = [ordered]@{ key = $Key; exists = $false; error = $null; keys = @() }
    $psPath = 'Registry::' + ($Key -replace '^HKLM\\', 'HKEY_LOCAL_MACHINE\')
    try {
        if (-not (Test-Path -LiteralPath $psPath)) { return $entry }
        $entry.exists = $true
        $root = Get-Item -LiteralPath $psPath -ErrorAction Stop
        $keys = @(Get-RegKeyValues $root $Names)
        if ($Depth -gt 0) {
            $children = @(Get-ChildItem -LiteralPath $psPath -Recurse -Depth ($Depth - 1) -ErrorAction SilentlyContinue | Select-Object -First 400)
            if ($children.Count -ge 400) { Add-Note "registry ${Key}: more than 400 subkeys, the first 400 kept" }
            foreach ($c in $children) { $keys += Get-RegKeyValues $c @() }
        }
        $entry.keys = @($keys)
    } catch { $entry.error = $_.Exception.Message }
    $entry
}

function Get-EnterpriseMgmtTasks([bool]$Elevated) {
    $result = [ordered]@{ error = $null; tasks = @() }
    if (-not $Elevated) {
        $result.error = 'not elevated: EnterpriseMgmt tasks are visible to administrators only'
        return $result
    }
    try {
        $all = Get-ScheduledTask -ErrorAction Stop |
            Where-Object { $_.TaskPath -like '\Microsoft\Windows\EnterpriseMgmt\*' }
        $result.tasks = @($all | ForEach-Object {
            $info = $_ | Get-ScheduledTaskInfo -ErrorAction SilentlyContinue
            $lastRun = $null; $lastResult = $null
            if ($info) {
                if ($info.LastRunTime -and $info.LastRunTime.Year -gt 2000) { $lastRun = $info.LastRunTime.ToUniversalTime().ToString('o') }
                $lastResult = [int64]$info.LastTaskResult
            }
            [ordered]@{
                path           = $_.TaskPath + $_.TaskName
                state          = [string]$_.State
                enabled        = [bool]$_.Settings.Enabled
                lastRunTime    = $lastRun
                lastTaskResult = $lastResult
                taskToRun      = (@($_.Actions | ForEach-Object { "$($_.Execute) $($_.Arguments)".Trim() }) -join '; ')
            }
        })
    } catch { $result.error = $_.Exception.Message }
    $result
}

function Get-Hardware {
    $h = [ordered]@{ manufacturer = $null; model = $null; serialNumber = $null; error = $null }
    try {
        $cs = Get-CimInstance -ClassName Win32_ComputerSystem -ErrorAction Stop
        $h.manufacturer = $cs.Manufacturer
        $h.model = $cs.Model
        $bios = Get-CimInstance -ClassName Win32_BIOS -ErrorAction Stop
        $h.serialNumber = ([string]$bios.SerialNumber).Trim()
    } catch { $h.error = $_.Exception.Message }
    $h
}

function Get-TpmState([bool]$Elevated) {
    $t = [ordered]@{ present = $null; ready = $null; enabled = $null; activated = $null; specVersion = $null; manufacturer = $null; manufacturerVersion = $null; tpmtool = $null; error = $null }
    if (-not $Elevated) { $t.error = 'not elevated: the TPM state is readable by administrators only'; return $t }
    $errors = @()
    try {
        $g = Get-Tpm -ErrorAction Stop
        $t.present = $g.TpmPresent; $t.ready = $g.TpmReady; $t.enabled = $g.TpmEnabled; $t.activated = $g.TpmActivated
        $t.manufacturer = $g.ManufacturerIdTxt; $t.manufacturerVersion = $g.ManufacturerVersion
    } catch { $errors += "Get-Tpm: $($_.Exception.Message)" }
    try {
        $w = Get-CimInstance -Namespace 'root\cimv2\Security\MicrosoftTpm' -ClassName Win32_Tpm -ErrorAction Stop
        if ($w) {
            $t.specVersion = $w.SpecVersion
            if ($null -eq $t.present) { $t.present = $true }
            if ($null -eq $t.enabled) { $t.enabled = $w.IsEnabled_InitialValue }
            if ($null -eq $t.activated) { $t.activated = $w.IsActivated_InitialValue }
            if (-not $t.manufacturer) { $t.manufacturer = $w.ManufacturerIdTxt }
            if (-not $t.manufacturerVersion) { $t.manufacturerVersion = $w.ManufacturerVersion }
            if ($null -eq $t.ready) {
                $r = Invoke-CimMethod -InputObject $w -MethodName IsReadyInformation -ErrorAction SilentlyContinue
                if ($r) { $t.ready = $r.IsReady }
            }
        } elseif ($null -eq $t.present) { $t.present = $false }
    } catch { $errors += "Win32_Tpm: $($_.Exception.Message)" }
    $t.tpmtool = Get-ToolOutput "$env:SystemRoot\System32\tpmtool.exe" @('getdeviceinformation')
    if ($errors.Count -gt 0) { $t.error = $errors -join '; ' }
    $t
}

# Endpoints of the device's cloud (Intune and Entra network endpoint lists), chosen from the
# device's own URLs (dsregcmd Tenant Details, CloudDomainJoin\TenantInfo).
function Get-CloudEndpoints([string]$Hints) {
    if ($Hints -like '*microsoftonline.cn*' -or $Hints -like '*chinacloudapi.cn*') {
        return @(
            @{ role = 'enrollment'; url = 'https://enrollment.manage.microsoftonline.cn/enrollmentserver/discovery.svc' },
            @{ role = 'registration'; url = 'https://enterpriseregistration.partner.microsoftonline.cn/' },
            @{ role = 'sign-in'; url = 'https://login.chinacloudapi.cn/common/oauth2/token' })
    }
    if ($Hints -like '*.microsoft.us*' -or $Hints -like '*microsoftonline.us*') {
        return @(
            @{ role = 'enrollment'; url = 'https://enrollment.manage.microsoft.us/enrollmentserver/discovery.svc' },
            @{ role = 'registration'; url = 'https://enterpriseregistration.microsoftonline.us/' },
            @{ role = 'sign-in'; url = 'https://login.microsoftonline.us/common/oauth2/token' })
    }
    @(
        @{ role = 'enrollment'; url = 'https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc' },
        @{ role = 'registration'; url = 'https://enterpriseregistration.windows.net/' },
        @{ role = 'sign-in'; url = 'https://login.microsoftonline.com/common/oauth2/token' },
        @{ role = 'device-sign-in'; url = 'https://device.login.microsoftonline.com/' })
}

# `Proxy Server(s) :  host:port` or `http=h:p;https=h:p` (English netsh only) -> http://host:port
function Get-WinHttpProxyUri([string]$NetshText) {
    if (-not $NetshText -or -not ($NetshText -match 'Proxy Server\(s\)\s*:\s*(\S+)')) { return $null }
    $value = $Matches[1]
    $chosen = $value
    foreach ($part in ($value -split ';')) {
        if ($part -like 'https=*') { $chosen = $part.Substring(6) }
        elseif ($part -like 'http=*' -and $chosen -eq $value) { $chosen = $part.Substring(5) }
    }
    if ($chosen -notlike '*://*') { $chosen = "http://$chosen" }
    $chosen
}

# Full Language Mode only (the script checks before calling it): the certificate the endpoint
# (or an inspecting proxy) presents, read with a TLS handshake through the same proxy.
function Get-PresentedCertificateFullLanguage([string]$HostName, [string]$ProxyUri) {
    $c = [ordered]@{ issuer = $null; subject = $null; policyErrors = $null; error = $null }
    $tcp = $null
    try {
        $tcp = New-Object System.Net.Sockets.TcpClient
        if ($ProxyUri) {
            $p = [uri]$ProxyUri
            $tcp.Connect($p.Host, $p.Port)
            $stream = $tcp.GetStream()
            $hello = [System.Text.Encoding]::ASCII.GetBytes("CONNECT ${HostName}:443 HTTP/1.1`r`nHost: ${HostName}:443`r`n`r`n")
            $stream.Write($hello, 0, $hello.Length)
            $buffer = New-Object byte[] 4096
            $read = $stream.Read($buffer, 0, $buffer.Length)
            $answer = [System.Text.Encoding]::ASCII.GetString($buffer, 0, $read)
            if ($answer -notmatch '^HTTP/1\.[01] 200') { throw "proxy refused CONNECT: $(($answer -split "`r`n")[0])" }
        } else {
            $tcp.Connect($HostName, 443)
            $stream = $tcp.GetStream()
        }
        $state = @{ errors = $null }
        $callback = [System.Net.Security.RemoteCertificateValidationCallback] { param($s, $cert, $chain, $errs) $state.errors = [string]$errs; $true }
        $ssl = New-Object System.Net.Security.SslStream($stream, $false, $callback)
        $ssl.ReadTimeout = 15000
        $ssl.AuthenticateAsClient($HostName)
        $c.issuer = $ssl.RemoteCertificate.Issuer
        $c.subject = $ssl.RemoteCertificate.Subject
        $c.policyErrors = $state.errors
        $ssl.Dispose()
    } catch { $c.error = $_.Exception.Message }
    finally { if ($tcp) { $tcp.Close() } }
    $c
}

function Test-Endpoint($Endpoint, [string]$ProxyUri) {
    $url = $Endpoint.url
    $hostName = ([uri]$url).Host
    $p = [ordered]@{ url = $url; role = $Endpoint.role; dns = $null; httpStatus = $null; errorStatus = $null; error = $null; viaProxy = $ProxyUri; serverDate = $null; localTime = $null; certificateIssuer = $null; certificateSubject = $null; certificatePolicyErrors = $null; note = $null }
    try {
        $null = Resolve-DnsName -Name $hostName -Type A -DnsOnly -QuickTimeout -ErrorAction Stop
        $p.dns = $true
    } catch { $p.dns = $false; $p.error = "DNS: $($_.Exception.Message)" }
    $request = @{ Uri = $url; UseBasicParsing = $true; TimeoutSec = 20; MaximumRedirection = 0; Method = 'Get'; ErrorAction = 'Stop' }
    if ($ProxyUri) { $request.Proxy = $ProxyUri }
    elseif ($PSVersionTable.PSVersion.Major -ge 7) { $request.NoProxy = $true }
    else { $p.note = 'Windows PowerShell 5.1 cannot bypass this user''s own proxy settings: with a direct WinHTTP path the probe may still have used them' }
    if ($PSVersionTable.PSVersion.Major -ge 7) { $request.SkipHttpErrorCheck = $true }
    $response = $null
    try { $response = Invoke-WebRequest @request }
    catch {
        $ex = $_.Exception
        if ($ex.Response) { $response = $ex.Response }
        $p.errorStatus = [string]$ex.Status
        if (-not $p.errorStatus -and $ex.HttpRequestError) { $p.errorStatus = [string]$ex.HttpRequestError }
        if (-not $response) { $p.error = $ex.Message }
    }
    $p.localTime = (Get-Date).ToUniversalTime().ToString('o')
    if ($response) {
        try { $p.httpStatus = [int]$response.StatusCode } catch { }
        # The raw Date header (RFC 1123, UTC): compared with localTime for clock skew.
        try { $p.serverDate = [string]$response.Headers['Date'] } catch { }
    }
    if ($IsFullLanguage) {
        $cert = Get-PresentedCertificateFullLanguage $hostName $ProxyUri
        $p.certificateIssuer = $cert.issuer
        $p.certificateSubject = $cert.subject
        $p.certificatePolicyErrors = $cert.policyErrors
        if ($cert.error) { $p.note = (@($p.note, "certificate: $($cert.error)") | Where-Object { $_ }) -join '; ' }
    } else {
        $p.note = (@($p.note, 'Constrained Language Mode: the presented certificate cannot be read, so TLS inspection is not checked') | Where-Object { $_ }) -join '; '
    }
    $p
}

function Get-Network($Context, [string]$Hints) {
    $n = [ordered]@{ winhttpProxy = $null; probedAsSystem = $Context.isSystem; probes = @(); error = $null }
    $n.winhttpProxy = Get-ToolOutput "$env:SystemRoot\System32\netsh.exe" @('winhttp', 'show', 'proxy')
    if ($NoNetwork) { $n.error = 'not probed: -NoNetwork'; return $n }
    $proxy = Get-WinHttpProxyUri $n.winhttpProxy.output
    if (-not $proxy -and $n.winhttpProxy.output -and $n.winhttpProxy.output -notmatch 'Direct access') {
        Add-Note 'netsh output not in English: the WinHTTP proxy is not applied to the probes'
    }
    $n.probes = @(Get-CloudEndpoints $Hints | ForEach-Object { Test-Endpoint $_ $proxy })
    $n
}

function Get-Clock {
    $c = Get-ToolOutput "$env:SystemRoot\System32\w32tm.exe" @('/query', '/status', '/verbose')
    $now = Get-Date
    $culture = Get-Culture
    $c.queriedAt = $now.ToUniversalTime().ToString('o')
    $c.utcOffsetMinutes = [int](($now - $now.ToUniversalTime()).TotalMinutes)
    $c.culture = $culture.Name
    $c.shortDatePattern = $culture.DateTimeFormat.ShortDatePattern
    $c.longTimePattern = $culture.DateTimeFormat.LongTimePattern
    $c
}

$context = Get-RunContext
if ($Merge) {
    $mergePath = Resolve-InFile $Merge
    $first = Get-Content -LiteralPath $mergePath -Raw | ConvertFrom-Json
    if ($first.schema -ne 'enroll-doctor/device-report@1') { throw "$mergePath is not an enroll-doctor device report" }
    $dsregcmd = $first.dsregcmd
    foreach ($n in @($first.collector.notes)) { if ($n) { Add-Note "part 1: $n" } }
} else {
    $dsregcmd = Get-Dsregcmd
}
if ($dsregcmd -and ($dsregcmd.elevated -or $dsregcmd.isSystem)) {
    Add-Note 'dsregcmd ran elevated or as SYSTEM: user state (PRT, MDM URL) may be missing; run part 1 as the signed-in user and pass it with -Merge'
}

$logs = @($LogQueries | ForEach-Object { Get-LogExport $_ })

$OsValues = @('CurrentBuildNumber', 'CurrentBuild', 'UBR', 'DisplayVersion', 'ReleaseId', 'EditionID', 'CompositionEditionID', 'ProductName', 'InstallationType')
$keys = @(
    (Get-RegSnapshot 'HKLM\SOFTWARE\Microsoft\Enrollments' 2),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion' 0),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\MDM' 0),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion' 0 $OsValues),
    (Get-RegSnapshot 'HKLM\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\TenantInfo' 1),
    (Get-RegSnapshot 'HKLM\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\JoinInfo' 1),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\CDJ\AAD' 0),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Microsoft\CCM' 0 @('CoManagementFlags')),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Microsoft\SMS\Mobile Client' 0 @('ProductVersion')),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Microsoft\Provisioning\OMADM\Accounts' 3),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot' 1),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Microsoft\Windows\Autopilot\EnrollmentStatusTracking' 3),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings' 0 @('ProxyEnable', 'ProxyServer', 'ProxyOverride', 'AutoConfigURL')),
    (Get-RegSnapshot 'HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\Internet Settings' 0 @('ProxySettingsPerUser'))
)

# The device's own URLs name its cloud (public, US Government, China).
$hints = ''
if ($dsregcmd -and $dsregcmd.output) { $hints += [string]$dsregcmd.output }
foreach ($k in $keys) { if ($k.key -like '*TenantInfo') { $hints += (@($k.keys | ForEach-Object { $_.values | ForEach-Object { [string]$_.data } }) -join ' ') } }

$tasks = Get-EnterpriseMgmtTasks $context.elevated
$hardware = Get-Hardware
$tpm = Get-TpmState $context.elevated
$network = Get-Network $context $hints
$clock = Get-Clock

if ($tasks.error) { Add-Note "scheduled tasks: $($tasks.error)" }
if ($tpm.error) { Add-Note "tpm: $($tpm.error)" }
foreach ($l in $logs) { if ($l.error) { Add-Note "event log $($l.name): $($l.error)" } }
foreach ($k in $keys) { if ($k.error) { Add-Note "registry $($k.key): $($k.error)" } }

$collector = $context
$collector.version = $CollectorVersion
$collector.hostName = $env:COMPUTERNAME
$collector.days = $Days
$collector.notes = @($script:Notes)

$report = [ordered]@{
    schema         = 'enroll-doctor/device-report@1'
    collector      = $collector
    dsregcmd       = $dsregcmd
    eventLogs      = @($logs)
    registry       = @($keys)
    scheduledTasks = $tasks
    hardware       = $hardware
    tpm            = $tpm
    network        = $network
    clock          = $clock
}
$path = Resolve-OutFile $Out
$json = $report | ConvertTo-Json -Depth 10
Set-Content -LiteralPath $path -Value $json -Encoding UTF8
Write-Host "enroll-doctor: report written to $path"
if (-not $context.elevated) { Write-Host 'Next: run this script elevated with -Merge to add scheduled tasks, the TPM state and protected logs.' }
