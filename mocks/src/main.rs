//! `mock-graph`: run the mock Graph from the command line for local development.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mock_graph::fault_rules::{self, MAX_RULES_FILE};
use mock_graph::{FaultRule, MockConfig, MockGraph, TenantSource};

#[derive(Parser)]
#[command(
    name = "mock-graph",
    about = "Mock Microsoft Graph + Entra identity platform on 127.0.0.1"
)]
struct Args {
    /// Embedded fixture tenant (contoso, fabrikam, northwind).
    #[arg(long, default_value = "contoso", conflicts_with_all = ["dir", "generate"])]
    tenant: String,
    /// Fixture folder on disk instead of an embedded tenant.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Generate a tenant with this many users instead of a fixture.
    #[arg(long)]
    generate: Option<usize>,
    /// Seed for --generate.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Port on 127.0.0.1 (0 = pick a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Server page size (lists return at most this many items per page).
    #[arg(long)]
    page_size: Option<usize>,
    /// Delay added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Also print the fixture apps' client secrets (local development only).
    #[arg(long)]
    print_secrets: bool,
    /// A fault rule, e.g. 'GET /v1.0/users status=429 retry-after=2 times=3' (repeatable; the
    /// grammar is in mocks/README.md).
    #[arg(long = "fault", value_name = "RULE")]
    faults: Vec<String>,
    /// A file of fault rules, one per line ('#' starts a comment).
    #[arg(long = "faults", value_name = "FILE")]
    faults_file: Option<PathBuf>,
    /// Answer this share (0 < F <= 1) of every Graph request and batch item with
    /// 429 + Retry-After: 1.
    #[arg(long, value_name = "F")]
    throttle: Option<f64>,
    /// Seed of --throttle and of rules with fraction= but no seed=.
    #[arg(long, default_value_t = 1)]
    fault_seed: u64,
}

/// The rules from `--faults FILE`, `--fault` and `--throttle`, in that order.
fn fault_rules(args: &Args) -> Result<Vec<FaultRule>, Box<dyn std::error::Error>> {
    let mut rules = Vec::new();
    if let Some(path) = &args.faults_file {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| format!("--faults {shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("--faults {shown}: not a regular file").into());
        }
        if meta.len() > MAX_RULES_FILE {
            return Err(format!(
                "--faults {shown}: {} bytes, more than the {MAX_RULES_FILE} a rules file may have",
                meta.len()
            )
            .into());
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("--faults {shown}: {e}"))?;
        rules.extend(fault_rules::parse_rules(&shown, &text, args.fault_seed)?);
    }
    for text in &args.faults {
        rules.push(fault_rules::parse_rule(text, args.fault_seed)?);
    }
    if let Some(f) = args.throttle {
        rules.push(
            fault_rules::throttle_rule(f, args.fault_seed)
                .map_err(|e| format!("--throttle {f}: {e}"))?,
        );
    }
    Ok(rules)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-graph: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let rules = fault_rules(&args)?;
    let mut cfg = match (&args.dir, args.generate) {
        (Some(dir), _) => MockConfig::dir(dir.clone()),
        (None, Some(users)) => MockConfig::generated(users, args.seed),
        (None, None) => MockConfig::fixture(&args.tenant),
    };
    if let Some(size) = args.page_size {
        cfg.page_size = size;
    }
    cfg.port = args.port;
    // Refusals are listed at the end instead of failing a test.
    cfg.fail_on_refusals = false;
    cfg.latency = Duration::from_millis(args.latency_ms);
    let label = match &cfg.tenant {
        TenantSource::Fixture(name) => name.clone(),
        TenantSource::Dir(p) => p.display().to_string(),
        TenantSource::Generated { users, seed } => {
            format!("generated ({users} users, seed {seed})")
        }
        TenantSource::GeneratedFleet {
            users,
            devices,
            seed,
        } => format!("generated ({users} users, {devices} devices, seed {seed})"),
    };
    let mock = MockGraph::start(cfg).await?;
    println!("base_url:  {}", mock.base_url());
    println!("tenant:    {label}");
    println!("tenant_id: {}", mock.tenant_id());
    println!("token_url: {}", mock.token_url());
    for rule in rules {
        println!("fault:     {}", fault_rules::describe(&rule));
        mock.inject(rule);
    }
    for app in mock.apps() {
        let kind = if app.user_principal_name.is_some() {
            format!(
                "device code as {}",
                app.user_principal_name.as_deref().unwrap_or("")
            )
        } else {
            format!("roles: {}", app.roles.join(" "))
        };
        println!("app {:<17} client_id={}  {kind}", app.name, app.client_id);
        if args.print_secrets && !app.client_secret.is_empty() {
            println!("    client_secret={}", app.client_secret);
        }
    }
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    let refusals = mock.schema_refusals();
    if !refusals.is_empty() {
        eprintln!(
            "refused {} request(s) that Graph would refuse:\n{}",
            refusals.len(),
            refusals.join("\n")
        );
    }
    mock.shutdown().await;
    Ok(())
}
