<#
.SYNOPSIS
  enroll-doctor device collector. Read-only. Writes ONE JSON file (schema enroll-doctor/device-report@1)
  for `enroll-doctor diagnose FILE`.
.DESCRIPTION
  dsregcmd must run as the signed-in user (PRT and MDM URL are per user); the EnterpriseMgmt tasks
  are only visible to administrators. So run it in two parts:
    1. In a normal (not elevated) PowerShell of the signed-in user:
         powershell -ExecutionPolicy Bypass -File collect.ps1 -Out part1.json
    2. In an elevated PowerShell on the same device:
         powershell -ExecutionPolicy Bypass -File collect.ps1 -Merge part1.json -Out report.json
  Part 2 keeps part 1's dsregcmd output and collects the rest again with admin rights.
  A single run of either kind also works; the report then says what is missing.
  What it does: dsregcmd /status; Get-WinEvent on the DMEDP Admin and TaskScheduler/Operational
  logs; reg export of three keys to temporary files (read back, then deleted); Get-ScheduledTask.
  It changes no setting. Windows PowerShell 5.1 or later.
#>
[CmdletBinding()]
param(
    [string]$Out = "$env:COMPUTERNAME-enroll-doctor.json",
    [string]$Merge,
    [int]$MaxEvents = 500
)
Set-StrictMode -Version 2
$ErrorActionPreference = 'Continue'
$CollectorVersion = '1'
$Notes = New-Object System.Collections.Generic.List[string]

function Get-RunContext {
    $id = [Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object Security.Principal.WindowsPrincipal($id)
    [ordered]@{
        user        = $id.Name
        elevated    = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
        isSystem    = $id.IsSystem
        collectedAt = (Get-Date).ToUniversalTime().ToString('o')
    }
}

function Get-Dsregcmd {
    $run = Get-RunContext
    $run.output = $null
    $run.error = $null
    try {
        $run.output = (& "$env:SystemRoot\System32\dsregcmd.exe" /status | Out-String)
    } catch { $run.error = $_.Exception.Message }
    $run
}

# Busy logs (policy refreshes, every scheduled task) would push the enrollment events out of a
# plain "newest N" query, so each log is filtered to the event IDs the checks read.
$EventFilters = @{
    'Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin' =
        '*[System[(EventID>=3 and EventID<=20) or EventID=52 or EventID=59 or (EventID>=71 and EventID<=92)]]'
    'Microsoft-Windows-TaskScheduler/Operational' =
        '*[System[EventID=100 or EventID=101 or EventID=102 or EventID=103 or EventID=107 or EventID=110 or EventID=201 or EventID=202 or EventID=203 or EventID=7016]]'
}

function Get-LogExport([string]$LogName) {
    $entry = [ordered]@{ name = $LogName; enabled = $null; oldestRecord = $null; recordCount = $null; error = $null; events = @() }
    try {
        $log = Get-WinEvent -ListLog $LogName -ErrorAction Stop
        $entry.enabled = $log.IsEnabled
        $entry.recordCount = $log.RecordCount
        $oldest = Get-WinEvent -LogName $LogName -Oldest -MaxEvents 1 -ErrorAction SilentlyContinue
        if ($oldest) { $entry.oldestRecord = $oldest.TimeCreated.ToUniversalTime().ToString('o') }
        $events = Get-WinEvent -LogName $LogName -FilterXPath $EventFilters[$LogName] -MaxEvents ($MaxEvents * 10) -ErrorAction SilentlyContinue |
            # Task Scheduler: only the EnterpriseMgmt tasks matter (7016 is kept whatever its task).
            Where-Object { $_.Id -eq 7016 -or $_.ProviderName -notlike '*TaskScheduler*' -or (@($_.Properties | ForEach-Object { [string]$_.Value }) -join ' ') -like '*EnterpriseMgmt*' } |
            Select-Object -First $MaxEvents
        # Same property names as Get-WinEvent | ConvertTo-Json, with insertion strings kept.
        $entry.events = @($events | Where-Object { $_ } | ForEach-Object {
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

function Get-RegExport([string]$Key) {
    $entry = [ordered]@{ key = $Key; exists = $false; export = $null; error = $null }
    $psPath = 'Registry::' + ($Key -replace '^HKLM\\', 'HKEY_LOCAL_MACHINE\')
    if (-not (Test-Path -LiteralPath $psPath)) { return $entry }
    $entry.exists = $true
    $tmp = Join-Path ([IO.Path]::GetTempPath()) ([IO.Path]::GetRandomFileName() + '.reg')
    try {
        & "$env:SystemRoot\System32\reg.exe" export $Key $tmp /y 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "reg export exited with code $LASTEXITCODE" }
        $entry.export = [IO.File]::ReadAllText($tmp)  # UTF-16LE with BOM, detected by .NET
    } catch { $entry.error = $_.Exception.Message }
    finally { Remove-Item -LiteralPath $tmp -Force -ErrorAction SilentlyContinue }
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
                if ($info.LastRunTime -and $info.LastRunTime.Year -gt 2000) {
                    $lastRun = $info.LastRunTime.ToUniversalTime().ToString('o')
                }
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

$context = Get-RunContext
if ($Merge) {
    $first = Get-Content -LiteralPath $Merge -Raw | ConvertFrom-Json
    if ($first.schema -ne 'enroll-doctor/device-report@1') { throw "$Merge is not an enroll-doctor device report" }
    $dsregcmd = $first.dsregcmd
    foreach ($n in @($first.collector.notes)) { if ($n) { $Notes.Add("part 1: $n") } }
} else {
    $dsregcmd = Get-Dsregcmd
}
if ($dsregcmd -and ($dsregcmd.elevated -or $dsregcmd.isSystem)) {
    $Notes.Add('dsregcmd ran elevated or as SYSTEM: user state (PRT, MDM URL) may be missing; run part 1 as the signed-in user and pass it with -Merge')
}

$logs = @(
    'Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin',
    'Microsoft-Windows-TaskScheduler/Operational'
) | ForEach-Object { Get-LogExport $_ }

$keys = @(
    'HKLM\SOFTWARE\Microsoft\Enrollments',
    'HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\MDM',
    'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
) | ForEach-Object { Get-RegExport $_ }

$tasks = Get-EnterpriseMgmtTasks $context.elevated
if ($tasks.error) { $Notes.Add("scheduled tasks: $($tasks.error)") }
foreach ($l in $logs) { if ($l.error) { $Notes.Add("event log $($l.name): $($l.error)") } }
foreach ($k in $keys) { if ($k.error) { $Notes.Add("registry $($k.key): $($k.error)") } }

$collector = $context
$collector.version = $CollectorVersion
$collector.hostName = $env:COMPUTERNAME
$collector.notes = @($Notes)

$report = [ordered]@{
    schema         = 'enroll-doctor/device-report@1'
    collector      = $collector
    dsregcmd       = $dsregcmd
    eventLogs      = @($logs)
    registry       = @($keys)
    scheduledTasks = $tasks
}
$path = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Out)
$json = $report | ConvertTo-Json -Depth 8
[IO.File]::WriteAllText($path, $json, (New-Object System.Text.UTF8Encoding($false)))
Write-Host "enroll-doctor: report written to $path"
if (-not $context.elevated) { Write-Host 'Next: run this script elevated with -Merge to add scheduled tasks and protected logs.' }
