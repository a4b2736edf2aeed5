//! Command-line interface (clap). Each subcommand's behaviour lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "enroll-doctor",
    version,
    about = "Explains why a Windows device does not auto-enroll into Intune MDM, and whether a tenant and its users are ready.",
    long_about = "enroll-doctor reads a Windows device's artifacts (dsregcmd /status, event logs, registry \
exports, scheduled tasks) and/or a tenant through Microsoft Graph, and prints one verdict per \
device with its cause chain, every finding with its evidence, and the fix.\n\n\
Start here:\n  enroll-doctor demo                          run everything against the built-in sample tenant\n  \
enroll-doctor diagnose --device-report DIR  analyse a device's files offline (no credentials)\n  \
enroll-doctor explain 0x8018002B            decode an MDM error code\n  \
enroll-doctor explain DEV007                explain a check\n  \
enroll-doctor collector > collect.ps1       the read-only script that gathers a device report\n\n\
Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it (--fail-on skip: also \
a check that could not run) or a --require check that did not run; 2 the tool could not do its \
job or a check ended in error. `diff`: 1 when readiness regressed or a watched setting got weaker."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// More detail on stderr (-v: request counts and timings; -vv: debug logs). Secrets are always redacted.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log every Graph request and response line (headers redacted) to stderr.
    #[arg(long, global = true)]
    pub trace_http: bool,
    /// Configuration file (TOML). Default: ./enroll-doctor.toml if present.
    #[arg(long, global = true, env = "ENROLL_DOCTOR_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Colour the statuses of table output (FAIL and ERROR red, WARN yellow, PASS green, SKIP
    /// dim). auto: when stdout is a terminal; NO_COLOR turns it off, CLICOLOR_FORCE on (even
    /// for a pipe). Other formats are never coloured.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// How to reach the tenant. Flags win over environment variables, which win over the config file.
/// Secrets (client secret, tokens) are never accepted as flags: use the environment or a file.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Tenant connection (flags > environment > config file)")]
pub struct ConnectionArgs {
    /// Tenant id or verified domain. Env: AZURE_TENANT_ID; config: tenant.
    #[arg(long, global = true, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// Application (client) id of the app registration. Env: AZURE_CLIENT_ID; config: client_id.
    #[arg(long, global = true, value_name = "GUID")]
    pub client_id: Option<String>,
    /// Sign-in method. Env: ENROLL_DOCTOR_AUTH. Default: client-secret when AZURE_CLIENT_SECRET
    /// is set, certificate when a certificate is, workload-identity when
    /// AZURE_FEDERATED_TOKEN_FILE is, access-token when ENROLL_DOCTOR_ACCESS_TOKEN(_FILE) is,
    /// else browser (delegated) where a browser can be opened and device-code elsewhere.
    #[arg(long, global = true, value_enum)]
    pub auth: Option<AuthMethodArg>,
    /// National cloud.
    #[arg(long, global = true, value_enum)]
    pub cloud: Option<CloudArg>,
    /// Graph base URL for `--cloud custom` (e.g. http://127.0.0.1:8080).
    #[arg(long, global = true, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Identity platform base URL for `--cloud custom`.
    #[arg(long, global = true, value_name = "URL")]
    pub login_url: Option<String>,
    /// Certificate and private key for `--auth certificate`: a PKCS#12 file (.pfx/.p12, as
    /// Export-PfxCertificate or `openssl pkcs12 -export` write it), or PEM with the certificate
    /// and the key (unencrypted or encrypted PKCS#8; or the key in a .key file beside it). The
    /// key must be RSA. Its password comes from AZURE_CLIENT_CERTIFICATE_PASSWORD, never a
    /// flag. Env: AZURE_CLIENT_CERTIFICATE_PATH.
    #[arg(long, global = true, value_name = "FILE")]
    pub certificate: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethodArg {
    /// App-only: client secret from AZURE_CLIENT_SECRET.
    ClientSecret,
    /// App-only: certificate (PEM, encrypted PKCS#8 or PFX; password in
    /// AZURE_CLIENT_CERTIFICATE_PASSWORD).
    Certificate,
    /// Delegated: sign in in your browser (authorization code + PKCE, loopback redirect).
    Browser,
    /// Delegated: device code, for sessions without a browser.
    DeviceCode,
    /// App-only: the Azure managed identity of this VM, Function, App Service or Automation
    /// account (--client-id for a user-assigned one).
    ManagedIdentity,
    /// App-only: workload identity federation (AZURE_FEDERATED_TOKEN_FILE or GitHub Actions
    /// OIDC), no secret.
    WorkloadIdentity,
    /// Whatever `az login` signed in.
    AzureCli,
    /// A token from ENROLL_DOCTOR_ACCESS_TOKEN(_FILE); cannot be renewed.
    AccessToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloudArg {
    Global,
    Usgov,
    UsgovDod,
    China,
    Custom,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorArg {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Tables for people.
    #[default]
    Table,
    /// Stable JSON for scripts.
    Json,
    /// GitHub-flavoured Markdown to paste into a ticket or an issue.
    #[value(alias = "md")]
    Markdown,
}

/// Formats of a report (`audit`, `check`, `diagnose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportFormat {
    /// Tables for people; several users or devices lead with their summary.
    #[default]
    Table,
    /// Stable JSON for scripts (one document).
    Json,
    /// JSON Lines: a summary line, then one line per user or device, streamed.
    Jsonl,
    /// One row per user or device for a spreadsheet (RFC 4180, UTF-8 with BOM); the summary
    /// goes to stderr when that is a terminal.
    Csv,
    /// GitHub-flavoured Markdown to paste into a ticket or an issue.
    #[value(alias = "md")]
    Markdown,
    /// One self-contained HTML page to share or attach (no network loads; filters by status
    /// and check; printable); several users or devices lead with their summary, and every
    /// one's findings follow.
    Html,
    /// JUnit XML for CI test results: one test case per check and subject.
    Junit,
    /// SARIF 2.1.0 for code-scanning tools: the checks as rules, each finding that is not a
    /// pass as a result.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    /// Exit 1 when any finding fails.
    #[default]
    Fail,
    /// Exit 1 when any finding warns or fails.
    Warn,
    /// Exit 1 when any finding warns or fails, or a check could not run: skipped for a missing
    /// permission, an app-only token or missing evidence (not-applicable skips do not count).
    /// Errors still exit 2. For CI, so a run that checked nothing does not pass.
    Skip,
    /// Never exit 1 for findings (errors still exit 2).
    Never,
}

/// Options every evaluating command shares.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// With several users or devices, every one's findings in a table or Markdown (by default
    /// only the first 10 that are not ready get them, after the summary and the list).
    #[arg(long)]
    pub details: bool,
    /// Lowest status that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
    /// These checks (IDs or names; repeatable or comma-separated) must have run — not skip,
    /// not error — on every subject, else exit 1 naming them and why they did not run (a check
    /// the command does not evaluate did not run either). For CI: `--require USR003,USR009`.
    #[arg(long, value_name = "CHECK", value_delimiter = ',', action = clap::ArgAction::Append)]
    pub require: Vec<String>,
    /// Evaluate as of this date (YYYY-MM-DD or RFC 3339) instead of now: end-of-servicing, staleness.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose one or more devices from their reports (offline, or joined with the tenant).
    ///
    /// PATH is a collector bundle (.json), a single artifact file, a folder of artifacts, a .zip
    /// of them, or MdmDiagnosticsTool's .cab (or .zip, or the folder it unpacks to). A folder
    /// holding only sub-folders, zips, cabinets or bundles is a fleet: one diagnosis per device.
    /// File kinds and encodings are detected by content, not by name.
    ///
    /// Without a tenant connection the analysis is device-only. With one (--tenant, the
    /// environment or the config file) or --snapshot, each device is joined with the tenant: the
    /// user's license and MDM scope, enrollment restrictions, the Entra and Intune device records.
    #[command(after_long_help = DIAGNOSE_EXAMPLES)]
    Diagnose(DiagnoseArgs),
    /// Explain an MDM/DSREG error code (0x8018000A, 8018000a, 2149056522, -2145910774) or a check ID.
    #[command(after_long_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// Print the read-only PowerShell collector that gathers a device report bundle.
    ///
    /// The script (Windows PowerShell 5.1 or PowerShell 7, Full or Constrained Language Mode)
    /// reads dsregcmd /status; the DMEDP, Task Scheduler, AAD, device registration and Autopilot
    /// event logs (last -Days, default 14); a fixed list of registry values (Enrollments, MDM
    /// policy, Windows version, TenantInfo, CDJ\AAD, CCM CoManagementFlags, Autopilot, proxy);
    /// the EnterpriseMgmt tasks; hardware and TPM; netsh winhttp show proxy; TLS probes of the
    /// enrollment, registration and sign-in endpoints through the WinHTTP proxy; w32tm. It
    /// changes nothing.
    ///
    /// Run it twice on the device. Part 1 NOT elevated, as the signed-in user: dsregcmd must see
    /// the user's PRT and MDM URL. Part 2 elevated with -Merge: it keeps part 1's dsregcmd and
    /// adds what needs elevation: the EnterpriseMgmt scheduled tasks, the TPM state (Get-Tpm,
    /// Win32_Tpm, tpmtool) and the OMADM account keys. Everything else works in either part.
    #[command(after_long_help = COLLECTOR_EXAMPLES)]
    Collector(CollectorArgs),
    /// Audit the tenant's enrollment configuration (no user, no device).
    ///
    /// Reads, through Microsoft Graph (read-only) or from a saved --snapshot: the MDM authority
    /// and subscription, the MDM and MAM user scopes and their URLs, the default platform
    /// restriction, Entra's device join settings and Conditional Access policies that could
    /// block the Intune enrollment apps.
    #[command(after_long_help = AUDIT_EXAMPLES)]
    Audit(AuditArgs),
    /// Check users' readiness for Windows auto-enrollment.
    ///
    /// For each user: the account exists and is enabled, an enabled Intune service plan, inside
    /// the MDM user scope and not also in the MAM scope, the platform restriction that wins for
    /// them, the device limit, a usage location, a verified UPN domain and the Conditional Access
    /// policies that cover them. The tenant checks of `audit` are included.
    #[command(after_long_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Sign in, inspect the token and its permissions, or sign out.
    #[command(subcommand, after_long_help = AUTH_EXAMPLES)]
    Auth(AuthCommand),
    /// Run audit, a readiness check and diagnose against the built-in sample tenant (no setup).
    ///
    /// Starts the mock Graph on 127.0.0.1, signs in to it, and runs the real code paths on the
    /// bundled sample devices. Nothing leaves the machine.
    #[command(
        after_long_help = "Example:\n  enroll-doctor demo\n  enroll-doctor demo --format json | jq '.diagnose.diagnoses[].verdict'"
    )]
    Demo(DemoArgs),
    /// Compare two tenant snapshots: what changed in the enrollment configuration, and whose
    /// readiness changed and why.
    ///
    /// OLD and NEW are files saved by `audit --save-snapshot` (or `check --save-snapshot`) of
    /// one tenant. Compared: the MDM authority, licences and service plans, the MDM and MAM
    /// user scopes and their groups, enrollment restrictions (priorities, assignments, filters,
    /// Windows settings, device limits), assignment filters, Conditional Access policies, the
    /// device registration policy, Autopilot profiles, Enrollment Status Pages and device
    /// identities. Both snapshots are evaluated with the checks of `audit` and `check`, and
    /// every user in both is compared check by check. Two redacted snapshots compare when they
    /// were saved with the same --redact-key-file.
    #[command(after_long_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_long_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per subcommand into a folder.
    #[command(after_long_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier snapshot.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The later snapshot.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = DiffFormatArg::Table)]
    pub format: DiffFormatArg,
    /// Evaluate both snapshots as of this date (YYYY-MM-DD or RFC 3339). Default: when NEW was
    /// collected, so the same two files always give the same answer.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

/// Formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DiffFormatArg {
    /// Tables for people.
    #[default]
    Table,
    /// Stable JSON for scripts (`enroll-doctor/diff@1`).
    Json,
    /// GitHub-flavoured Markdown for a change ticket.
    #[value(alias = "md")]
    Markdown,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write enroll-doctor.1 and one enroll-doctor-<command>.1 per subcommand into DIR
    /// (created if missing) instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Device report(s): bundle, artifact file, folder, .zip or .cab. Repeatable.
    #[arg(long = "device-report", short = 'd', value_name = "PATH", required = true, num_args = 1..)]
    pub device_reports: Vec<PathBuf>,
    /// The enrolling user; overrides the one the device's files name (event 91, the Enrollments
    /// key, or dsregcmd's executing account).
    #[arg(long, value_name = "UPN")]
    pub user: Option<String>,
    /// Evaluate against a saved tenant snapshot instead of Graph.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Device-only analysis even when a tenant is configured.
    #[arg(long)]
    pub offline: bool,
    /// Pseudonymise the device reports (and --user) with the key in FILE before evaluating, so
    /// they correlate with a snapshot saved by `audit --save-snapshot S --redact
    /// --redact-key-file FILE` and the output names no real user, device or tenant.
    #[arg(long, value_name = "FILE")]
    pub redact_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Error code or check ID (DEV007, autoenroll-failed).
    // Signed decimal HRESULTs (-2145910774) must not be read as flags.
    #[arg(required_unless_present = "all", allow_negative_numbers = true)]
    pub code: Option<String>,
    /// List every check and error code.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CollectorArgs {
    /// Write the script to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TenantSourceArgs {
    /// Evaluate a saved snapshot offline instead of calling Graph.
    #[arg(long, value_name = "FILE", conflicts_with = "save_snapshot")]
    pub snapshot: Option<PathBuf>,
    /// Save the collected tenant facts to FILE (deterministic JSON).
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<PathBuf>,
    /// Pseudonymise UPNs, names, ids and domains in the saved snapshot (HMAC with a per-export key).
    #[arg(long, requires = "save_snapshot")]
    pub redact: bool,
    /// With --redact: read the redaction key from FILE, or create FILE with a new random key, so
    /// device reports redacted with the same key still correlate (`diagnose --redact-key-file`).
    /// Without it a one-time key is used and dropped.
    #[arg(long, value_name = "FILE", requires = "redact")]
    pub redact_key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub source: TenantSourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub tenants: TenantsArgs,
}

/// `audit` and `check` over many tenants with one app.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Many tenants")]
pub struct TenantsArgs {
    /// Run for every tenant in FILE: one tenant id or verified domain per line, `#` starts a
    /// comment. Every tenant uses the same app and sign-in method with its own sign-in, cached
    /// token and Graph throttling budget; the run ends with one summary row per tenant and exits
    /// with the worst tenant's code. App-only methods (client-secret, certificate,
    /// workload-identity with a multi-tenant app consented in each tenant) run unattended; with
    /// browser or device-code each tenant not yet signed in prompts, one at a time, before the
    /// reads start (`auth login --tenant T` ahead of time avoids the prompts). Not with --tenant,
    /// --snapshot, --save-snapshot, managed-identity or access-token (both are one tenant's).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["tenant", "snapshot", "save_snapshot"])]
    pub tenants_file: Option<PathBuf>,
    /// With --tenants-file: how many tenants are read at once.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..=64),
        requires = "tenants_file"
    )]
    pub tenant_concurrency: u16,
    /// With --tenants-file: write each tenant's full report, in --format, to
    /// DIR/<tenant>.<txt|md|json|jsonl|csv> (created if missing; files of the same names are
    /// replaced). Without it only the summary is printed.
    #[arg(long, value_name = "DIR", requires = "tenants_file")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// User principal name(s) to check. Repeatable.
    #[arg(long, value_name = "UPN")]
    pub user: Vec<String>,
    /// File with one UPN per line.
    #[arg(long, value_name = "FILE")]
    pub users_file: Option<PathBuf>,
    /// Check every member of this group (id or display name). Not with --user, --users-file or
    /// --all-users.
    #[arg(long, value_name = "GROUP", conflicts_with_all = ["user", "users_file", "all_users"])]
    pub group: Option<String>,
    /// Check every user in the tenant. Not with --user, --users-file or --group.
    #[arg(long, conflicts_with_all = ["user", "users_file", "group"])]
    pub all_users: bool,
    #[command(flatten)]
    pub source: TenantSourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub tenants: TenantsArgs,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Sign in and show who signed in, to which tenant, with which method, which checks the
    /// token can run, and the cached sign-ins.
    Status {
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// Only list the cached sign-ins (cloud, tenant, client, account, method, expiry): no
        /// sign-in and no network call.
        #[arg(long)]
        cached: bool,
    },
    /// Delegated sign-in with the device code flow; caches the refresh token (file mode 0600).
    Login,
    /// Remove the cached sign-in of this tenant, client and cloud (--tenant, --client-id,
    /// --cloud as for any command), or every cached sign-in with --all.
    Logout {
        /// Remove every cached sign-in (the whole cache file).
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

const DIAGNOSE_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  # One device, offline: a folder of dsregcmd.txt, event exports, .reg files\n",
    "  enroll-doctor diagnose -d ./PC0042\n",
    "  # The collector's bundle, joined with a snapshot saved by `audit --save-snapshot`\n",
    "  enroll-doctor diagnose -d PC0042.json --snapshot contoso.json\n",
    "  # A fleet (a folder of device folders or zips), for a script\n",
    "  enroll-doctor diagnose -d ./fleet --format json --fail-on warn\n",
    "  # A fleet as one HTML page to share, or as JUnit test results for CI\n",
    "  enroll-doctor diagnose -d ./fleet --format html > fleet.html\n",
    "  enroll-doctor diagnose -d ./fleet --format junit > results.xml\n",
    "  # Live: read the tenant through Graph with a delegated sign-in\n",
    "  enroll-doctor diagnose -d PC0042.zip --tenant contoso.com --user jdoe@contoso.com\n\n",
    "Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it (with --fail-on ",
    "skip also a check that could not run), or a --require check that did not run; ",
    "2 the tool could not do its job or a check ended in error."
);

const EXPLAIN_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  enroll-doctor explain 0x8018002B       # the code from event 76 or the Settings app\n",
    "  enroll-doctor explain -2145910774      # as a signed decimal (event data, logs)\n",
    "  enroll-doctor explain DEV007           # what a check looks at and how to fix it\n",
    "  enroll-doctor explain --all --format json"
);

const COLLECTOR_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  enroll-doctor collector -o collect.ps1\n",
    "  # On the device, as the signed-in user:\n",
    "  powershell -ExecutionPolicy Bypass -File collect.ps1 -Out part1.json\n",
    "  # Then from an elevated prompt, merging the first part:\n",
    "  powershell -ExecutionPolicy Bypass -File collect.ps1 -Merge part1.json -Out report.json\n",
    "  # Back on the admin workstation:\n",
    "  enroll-doctor diagnose -d report.json"
);

const DIFF_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  # Save a snapshot now and then (it holds every user and device)\n",
    "  enroll-doctor audit --save-snapshot contoso-2026-11-20.json\n",
    "  enroll-doctor diff contoso-2026-11-20.json contoso-2026-11-27.json\n",
    "  # Redacted snapshots compare when both were saved with the same key\n",
    "  enroll-doctor diff old.json new.json --format markdown > changes.md\n\n",
    "Exit codes: 0 no regression; 1 a watched setting got weaker (a group left the MDM ",
    "scope, a blocking restriction moved up, ...) or a user or the tenant is newly not ready ",
    "or has a check newly failing; 2 a file could not be read or the snapshots are of ",
    "different tenants (or redacted with different keys)."
);

const COMPLETIONS_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  enroll-doctor completions bash > ~/.local/share/bash-completion/completions/enroll-doctor\n",
    "  enroll-doctor completions zsh > \"${fpath[1]}/_enroll-doctor\"\n",
    "  enroll-doctor completions fish > ~/.config/fish/completions/enroll-doctor.fish\n",
    "  enroll-doctor completions powershell | Out-String | Invoke-Expression   # add to $PROFILE"
);

const MAN_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  enroll-doctor man | man -l -\n",
    "  enroll-doctor man --output-dir ~/.local/share/man/man1"
);

const AUDIT_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  # Delegated sign-in (device code) to your tenant\n",
    "  enroll-doctor audit --tenant contoso.onmicrosoft.com\n",
    "  # App-only with a certificate (a PFX, its password in AZURE_CLIENT_CERTIFICATE_PASSWORD),\n",
    "  # saving the facts for later offline runs\n",
    "  enroll-doctor audit --tenant <TENANT-ID> --client-id <APP-ID> --auth certificate \\\n",
    "      --certificate app.pfx --save-snapshot contoso.json\n",
    "  # A redacted snapshot to hand to support\n",
    "  enroll-doctor audit --save-snapshot s.json --redact --redact-key-file s.key\n",
    "  # Offline, from a saved snapshot\n",
    "  enroll-doctor audit --snapshot contoso.json --format json\n",
    "  # SARIF 2.1.0 for a code-scanning upload\n",
    "  enroll-doctor audit --snapshot contoso.json --format sarif > audit.sarif\n",
    "  # Every customer tenant with one multi-tenant app, a report file per tenant\n",
    "  enroll-doctor audit --tenants-file customers.txt --client-id <APP-ID> --auth certificate \\\n",
    "      --certificate app.pem --output-dir reports --format json\n\n",
    "Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it (with --fail-on ",
    "skip also a check that could not run), or a --require check that did not run; ",
    "2 the tool could not do its job or a check ended in error (with --tenants-file: the worst tenant's code)."
);

const CHECK_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  enroll-doctor check --tenant contoso.com --user jdoe@contoso.com --user kwong@contoso.com\n",
    "  enroll-doctor check --tenant contoso.com --group \"Intune pilot\"\n",
    "  enroll-doctor check --snapshot contoso.json --all-users --format json\n",
    "  enroll-doctor check --snapshot contoso.json --all-users -f html > users.html\n",
    "  enroll-doctor check --tenants-file customers.txt --all-users --output-dir reports\n\n",
    "Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it (with --fail-on ",
    "skip also a check that could not run), or a --require check that did not run; ",
    "2 the tool could not do its job or a check ended in error."
);

const AUTH_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  enroll-doctor auth login --tenant contoso.com --auth browser   # or --auth device-code\n",
    "  enroll-doctor auth status --tenant contoso.com    # who am I, which checks can run\n",
    "  AZURE_CLIENT_SECRET=... enroll-doctor auth status --tenant <ID> --client-id <APP> \\\n",
    "      --auth client-secret\n",
    "  enroll-doctor auth status --cached                 # the cached sign-ins, no network\n",
    "  enroll-doctor auth logout --tenant contoso.com    # that tenant's sign-in only\n",
    "  enroll-doctor auth logout --all                   # every cached sign-in"
);

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency checks over every subcommand (conflicts and requirements naming
    /// arguments that exist, no duplicate flags), which otherwise run only when a subcommand is
    /// parsed in a debug build.
    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
