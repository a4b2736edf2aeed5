//! `enroll-doctor demo`: the whole tool against the built-in sample tenant, with no setup.
//!
//! Starts the mock Graph in-process on loopback with the `contoso` fixture, signs in as its
//! `auditor` app with the real client-credentials flow over HTTP, and runs the same collection,
//! checks and renderers as `diagnose` (on six device reports bundled in the binary, so it works
//! from any directory), `audit` and `check --user`; the device verdicts are printed first. Findings are expected: the exit code is 0
//! whenever the demo ran.

#[cfg(not(feature = "demo"))]
pub fn run(_global: &crate::cli::GlobalArgs, _args: crate::cli::DemoArgs) -> anyhow::Result<u8> {
    anyhow::bail!(
        "this build of enroll-doctor has no demo (it was built without the `demo` feature)"
    )
}

#[cfg(feature = "demo")]
pub use with_mock::run;

#[cfg(feature = "demo")]
mod with_mock {
    use std::collections::HashMap;

    use anyhow::Context;
    use chrono::{DateTime, TimeZone, Utc};
    use mock_graph::{MockConfig, MockGraph};
    use serde::Serialize;

    use crate::cli::{DemoArgs, GlobalArgs, OutputFormat};
    use crate::commands::context::{
        collect_for_devices, graph_notes, init_logging, print_stats, print_stdout,
        print_table_stdout, runtime,
    };
    use enroll_doctor::checks::tenant::evaluate_tenant;
    use enroll_doctor::checks::user::user_readiness;
    use enroll_doctor::config::{AuthMethod, Cloud, FlagOverrides, Settings, env_vars};
    use enroll_doctor::device::report::DeviceReport;
    use enroll_doctor::device::report_from_memory;
    use enroll_doctor::diagnose::{Tenant, analyse_all, diagnose, tenant_needs};
    use enroll_doctor::graph::GraphClient;
    use enroll_doctor::report::{self, Report};
    use enroll_doctor::tenant::TenantSnapshot;
    use enroll_doctor::tenant::collect::{CollectOptions, UserSelection, collect};
    use enroll_doctor::text_safety::shown;

    /// The fixture app the demo signs in as (client credentials: audit and check).
    const DEMO_APP: &str = "auditor";
    /// The public-client app of the sample admin (delegated device-code sign-in: diagnose).
    const DEMO_ADMIN_APP: &str = "cli";
    /// Users of the readiness check: one ready, one with only Basic Mobility (INTUNE_O365).
    const CHECK_USERS: [&str; 2] = ["jdoe@contoso.com", "intern@contoso.com"];

    /// One bundled device folder: its name and the names of its files (embedded in the
    /// mock-graph crate, which ships with the demo).
    macro_rules! device {
        ($dir:literal, [$($file:literal),* $(,)?]) => {
            ($dir, &[$($file),*] as &[&str])
        };
    }

    /// A bundled device folder: its name and file names.
    type BundledDevice = (&'static str, &'static [&'static str]);

    /// The sample devices whose users and Entra/Intune records are in the contoso fixture.
    pub const DEVICES: &[BundledDevice] = &[
        device!(
            "hybrid-enrolled",
            [
                "dsregcmd.txt",
                "dmedp-admin.xml",
                "taskscheduler.xml",
                "schtasks.csv",
                "enrollments.reg",
                "mdm-policy.reg",
                "os.reg"
            ]
        ),
        device!(
            "demo-blocked-restriction",
            [
                "dsregcmd.txt",
                "dmedp-admin.xml",
                "taskscheduler.xml",
                "enrollments.reg",
                "mdm-policy.reg",
                "os.reg"
            ]
        ),
        device!(
            "failed-8018002b",
            [
                "dsregcmd.txt",
                "dmedp-admin.xml",
                "taskscheduler.xml",
                "enrollments.reg",
                "mdm-policy.reg",
                "os.reg"
            ]
        ),
        device!(
            "stale-enrollment",
            [
                "dsregcmd.txt",
                "taskscheduler.json",
                "enrollments.reg",
                "mdm-policy.reg",
                "os.reg"
            ]
        ),
        device!(
            "autopilot-no-profile",
            [
                "dsregcmd.txt",
                "autopilot.reg",
                "autopilot-events.json",
                "DeviceHash_DESKTOP-AP4417.csv",
                "os.reg"
            ]
        ),
        device!(
            "never-triggered",
            [
                "dsregcmd.txt",
                "dmedp-admin.xml",
                "taskscheduler.xml",
                "enrollments.reg",
                "mdm-policy.reg",
                "os.reg"
            ]
        ),
    ];

    /// The sample data describes 26 November 2026; evaluating as of then keeps the demo's
    /// verdicts the same whenever it runs (end of servicing, stale sign-ins).
    fn demo_as_of() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
            .single()
            .unwrap_or_else(Utc::now)
    }

    pub fn reports() -> Vec<DeviceReport> {
        DEVICES
            .iter()
            .map(|(name, files)| {
                let files: Vec<(String, Vec<u8>)> = files
                    .iter()
                    .filter_map(|f| {
                        mock_graph::device_file(name, f).map(|b| (f.to_string(), b.to_vec()))
                    })
                    .collect();
                report_from_memory(name, &files)
            })
            .collect()
    }

    #[derive(Serialize)]
    struct DemoJson<'a> {
        schema: &'static str,
        tenant: &'a str,
        graph_url: &'a str,
        signed_in_as: &'a str,
        audit: &'a Report,
        check: &'a Report,
        diagnose: &'a Report,
    }

    pub fn run(global: &GlobalArgs, args: DemoArgs) -> anyhow::Result<u8> {
        init_logging(global);
        let mut config = MockConfig::fixture("contoso");
        // The sample tenant's admin approves the demo's device-code sign-in at once.
        config.device_code_pending_polls = 0;
        // A request the mock refuses is an answer the demo shows, never a panic when it stops.
        config.fail_on_refusals = false;
        let mock = MockGraph::spawn_blocking(config)
            .context("cannot start the built-in sample tenant (mock Graph on 127.0.0.1)")?;
        let app = mock
            .app(DEMO_APP)
            .context("the sample tenant has no auditor app")?;
        let base = mock.base_url();
        let flags = FlagOverrides {
            tenant: Some(mock.tenant_id()),
            client_id: Some(app.client_id.clone()),
            auth: Some(AuthMethod::ClientSecret),
            cloud: Some(Cloud::Custom),
            graph_url: Some(base.clone()),
            login_url: Some(base.clone()),
            certificate: None,
        };
        // The sample app's secret goes in through the same channel as a real one (the
        // environment map), never through argv.
        let env: HashMap<String, String> = [(
            env_vars::CLIENT_SECRET.to_string(),
            app.client_secret.clone(),
        )]
        .into_iter()
        .collect();
        let settings = Settings::from_map(None, &env, &flags)?;
        let as_of = demo_as_of();

        // 1. audit: tenant-wide configuration.
        let audit_snap = collect_tenant(&settings, UserSelection::None)?;
        let mut audit = Report::new(as_of, Vec::new(), evaluate_tenant(&audit_snap));
        audit.notes = vec![source_note(&audit_snap)];

        // 2. check --user: readiness of two users (one $batch wave for both).
        let upns: Vec<String> = CHECK_USERS.iter().map(|u| u.to_string()).collect();
        let check_snap = collect_tenant(&settings, UserSelection::Upns(upns.clone()))?;
        let mut check_findings = evaluate_tenant(&check_snap);
        for upn in &upns {
            check_findings.extend(user_readiness(&check_snap, upn, None));
        }
        let mut check = Report::new(as_of, Vec::new(), check_findings);
        check.notes = vec![
            source_note(&check_snap),
            format!("{} user(s) checked", upns.len()),
        ];

        // 3. diagnose: the bundled device reports joined with the tenant, read with a delegated
        //    device-code sign-in, because Graph serves the MDM user scope to delegated tokens
        //    only — without it an out-of-scope user could only be inferred.
        let reports = reports();
        let analyses = analyse_all(&reports, None, as_of);
        let needs = tenant_needs(&reports, &analyses, None);
        let admin = mock
            .app(DEMO_ADMIN_APP)
            .context("the sample tenant has no delegated admin app")?;
        let cache_dir = std::env::temp_dir().join(format!(
            "enroll-doctor-demo-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        let delegated = delegated_settings(&flags, &admin.client_id, &cache_dir)?;
        let note = format!(
            "enroll-doctor demo: signing in as the sample admin {} with the device-code flow \
             (the sample tenant approves it at once; a real sign-in waits for you):",
            shown(
                admin
                    .user_principal_name
                    .as_deref()
                    .unwrap_or("of the sample tenant")
            )
        );
        eprintln!(
            "{}",
            report::table::wrap_paragraph(&note, report::table::width_from_env())
        );
        let collected = collect_for_devices(&delegated, &needs);
        // The sample sign-in's token cache is the demo's own: never left behind.
        let _ = std::fs::remove_dir_all(&cache_dir);
        let (snap, client) = collected?;
        print_stats(global, &client);
        let notes = graph_notes(&snap, &needs);
        let tenant = Tenant {
            snapshot: &snap,
            notes,
        };
        let diagnose = Report::from(diagnose(&reports, &analyses, Some(tenant), None, as_of));

        let out = match args.format {
            OutputFormat::Json => {
                let mut s = serde_json::to_string_pretty(&DemoJson {
                    schema: "enroll-doctor/demo@1",
                    tenant: &snap.tenant_id,
                    graph_url: &base,
                    signed_in_as: &app.display_name,
                    audit: &audit,
                    check: &check,
                    diagnose: &diagnose,
                })
                .context("cannot serialise the demo report")?;
                s.push('\n');
                report::json::escape_json(&s).into_owned()
            }
            // The demo is a terminal walk-through, not a ticket: Markdown gets the table layout.
            OutputFormat::Table | OutputFormat::Markdown => {
                // The per-device verdicts lead: they are what the tool is for. The tenant-wide
                // audit and the user readiness check follow.
                let mut s = banner(&base, &app.display_name, &snap.tenant_id);
                s.push_str(&section(
                    "1/3",
                    &format!(
                        "enroll-doctor diagnose {}",
                        DEVICES
                            .iter()
                            .map(|(d, _)| format!("--device-report {d}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                ));
                s.push_str(&report::render::table(&diagnose));
                s.push_str(&section("2/3", "enroll-doctor audit"));
                s.push_str(&report::render::table(&audit));
                s.push_str(&section(
                    "3/3",
                    &format!(
                        "enroll-doctor check {}",
                        CHECK_USERS
                            .iter()
                            .map(|u| format!("--user {u}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                ));
                s.push_str(&report::render::table(&check));
                s.push_str(NEXT_STEPS);
                // The banner names the sample app as the mock serves it.
                enroll_doctor::text_safety::into_safe_text(s)
            }
        };
        if args.format == OutputFormat::Json {
            print_stdout(&out)?;
        } else {
            print_table_stdout(&out)?;
        }
        drop(mock);
        // Findings are the point of a demo; it succeeded if it ran.
        Ok(0)
    }

    /// Settings for the delegated (device-code) sign-in of the sample admin, with a token cache
    /// of the demo's own so a real cached sign-in is never read or overwritten.
    fn delegated_settings(
        app_flags: &FlagOverrides,
        client_id: &str,
        cache_dir: &std::path::Path,
    ) -> anyhow::Result<Settings> {
        std::fs::create_dir_all(cache_dir)
            .with_context(|| format!("cannot create {}", cache_dir.display()))?;
        let flags = FlagOverrides {
            client_id: Some(client_id.to_string()),
            auth: Some(AuthMethod::DeviceCode),
            ..app_flags.clone()
        };
        let env: HashMap<String, String> = [(
            env_vars::TOKEN_CACHE.to_string(),
            cache_dir.join("token-cache.json").display().to_string(),
        )]
        .into_iter()
        .collect();
        Ok(Settings::from_map(None, &env, &flags)?)
    }

    /// Collects the sample tenant the way `audit` / `check` do.
    fn collect_tenant(settings: &Settings, users: UserSelection) -> anyhow::Result<TenantSnapshot> {
        let client =
            GraphClient::from_settings(settings).context("cannot set up the Graph client")?;
        let opts = CollectOptions {
            owned_devices: matches!(users, UserSelection::Upns(_)),
            users,
            devices: false,
            cloud: settings.cloud.as_str().to_string(),
            tenant_hint: settings.tenant.clone(),
        };
        let rt = runtime()?;
        rt.block_on(collect(&client, &opts, Utc::now()))
            .context("cannot collect the sample tenant")
    }

    fn source_note(snap: &TenantSnapshot) -> String {
        format!(
            "built-in sample tenant {} read from {} over HTTP with an app-only token (client credentials)",
            snap.tenant_id, snap.graph_base
        )
    }

    fn banner(base: &str, app: &str, tenant: &str) -> String {
        let width = report::table::width_from_env().clamp(60, 100);
        let rule = "=".repeat(width);
        let text = format!(
            "enroll-doctor demo: the BUILT-IN SAMPLE TENANT \"Contoso\" ({tenant}), not a real one. \
             A mock Microsoft Graph runs on {base}; the tenant, its users and six device reports (one a new Autopilot PC) \
             are bundled sample data. diagnose signs in as the sample admin with the delegated \
             device-code flow (Graph serves the MDM user scope to delegated sign-ins only); audit and \
             check sign in as the app \"{app}\" with the client-credentials flow. What follows is \
             exactly what diagnose, audit and check print for a real tenant (evaluated as of \
             2026-11-26)."
        );
        format!(
            "{rule}\n{}\n{}\n{rule}\n",
            report::table::wrap_paragraph(&text, width),
            report::table::wrap_paragraph(
                "Read the first table: one line per device with its verdict and root cause.",
                width
            ),
        )
    }

    fn section(step: &str, command: &str) -> String {
        let width = report::table::width_from_env();
        format!(
            "\n{}\n\n",
            report::table::wrap_line(&format!("── {step}  $ {command}"), width)
        )
    }

    /// Laid out to fit 80 columns (commands are never wrapped: they are copied).
    const NEXT_STEPS: &str = "
Next steps with your own tenant (README.md has the details):
  1. Register an app with the application permissions listed in the README,
     grant admin consent, then
       export AZURE_TENANT_ID=<tenant id> AZURE_CLIENT_ID=<app id>
       export AZURE_CLIENT_SECRET=<secret>
       enroll-doctor audit
  2. Check users before a rollout:
       enroll-doctor check --user someone@yourdomain.com
  3. The MDM/MAM user scope is only readable with a delegated sign-in:
       enroll-doctor auth login --auth browser     (or --auth device-code)
     then run audit / check / diagnose again with the same --auth
  4. On a device that does not enroll:
       enroll-doctor collector > collect.ps1
     run it on the device, then
       enroll-doctor diagnose --device-report <the bundle it wrote>
";
}

#[cfg(all(test, feature = "demo"))]
mod tests {
    #[test]
    fn every_bundled_device_file_is_embedded() {
        for (device, files) in super::with_mock::DEVICES {
            for f in *files {
                assert!(
                    mock_graph::device_file(device, f).is_some(),
                    "{device}/{f} is not in mocks/devices"
                );
            }
        }
    }
}
