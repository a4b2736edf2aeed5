//! The HTML report in a real browser: Debian's `chromium`, headless, opens the page of a fleet
//! from a file (as from a file share or a saved attachment) with JavaScript on and off, and
//! takes a screenshot of each. With the script the filter bar is shown and counts the
//! findings; without it the bar stays hidden and everything is there. The page's own policy
//! must not refuse its inline style sheet or script (the console says so when a hash is wrong).
//!
//! JavaScript is turned off the way a reader turns it off, by the profile's content setting
//! (`default_content_setting_values.javascript = 2`, "Don't allow sites to use JavaScript"):
//! with `--blink-settings=scriptEnabled=false` headless Chromium (156) writes no DOM and no
//! screenshot at all, since its own `--dump-dom` and `--screenshot` run script in the page.
//!
//! `.ci/run` installs `chromium` when it is missing and sets `ENROLL_DOCTOR_REQUIRE_BROWSER`:
//! under CI (`CI` set) or with that variable a missing browser fails the test; elsewhere (a
//! developer's machine without chromium) the test says loudly that it did not run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::common::isolated;

/// Set (as `.ci/run` does) to fail when no browser is installed; `CI` does the same.
const REQUIRE_VAR: &str = "ENROLL_DOCTOR_REQUIRE_BROWSER";

/// Whether a missing browser fails the test.
fn browser_required() -> bool {
    ["CI", REQUIRE_VAR]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs the browser headless on FILE with ARGS; (stdout, stderr), within 30 s.
fn browse(browser: &Path, profile: &Path, page: &Path, args: &[String]) -> (String, String) {
    let url = format!("file://{}", page.display()).replace(' ', "%20");
    // Files, not pipes: a page's DOM is larger than a pipe's buffer.
    let out_path = profile.with_extension("out");
    let err_path = profile.with_extension("err");
    let file =
        |p: &Path| std::fs::File::create(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(&url)
        .stdout(file(&out_path))
        .stderr(file(&err_path))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(50));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not finish within 30 s", browser.display());
            }
        }
    }
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    (read(&out_path), read(&err_path))
}

fn assert_no_policy_refusal(stderr: &str) {
    for l in stderr.lines() {
        assert!(
            !l.contains("Content Security Policy") && !l.contains("Refused to"),
            "the page's policy refused part of it: {l}"
        );
    }
}

#[test]
fn the_html_report_renders_in_chromium_with_and_without_javascript() {
    let Some(browser) = chromium() else {
        assert!(
            !browser_required(),
            "chromium is not installed (CI or {REQUIRE_VAR} requires it): \
             `apt-get install -y --no-install-recommends chromium` (.ci/run does it)"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: the HTML browser test did not run: no chromium on PATH. \
             `.ci/run` installs it; run that to test the page in a browser. !!!!!!!!\n"
        );
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let out = isolated(&root)
        .args(["diagnose", "-d", "mocks/devices", "--snapshot"])
        .arg(root.join("tests/fixtures/correlate/contoso-snapshot.json"))
        .args(["--as-of", "2026-11-26", "-f", "html"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run enroll-doctor: {e}"));
    let page = dir.path().join("fleet report.html");
    std::fs::write(&page, &out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let profile = dir.path().join("profile");
    let verdicts = ["enrolled", "failed", "blocked"];

    let started = Instant::now();
    let (dom, err) = browse(&browser, &profile, &page, &["--dump-dom".to_string()]);
    let with_js = started.elapsed();
    assert_no_policy_refusal(&err);
    assert!(
        dom.contains("findings shown</span>"),
        "the script did not count:\n{err}"
    );
    for v in verdicts {
        assert!(dom.contains(&format!(">{v}</span>")), "no {v} in the page");
    }

    let no_js = dir.path().join("no-js");
    std::fs::create_dir_all(no_js.join("Default")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        no_js.join("Default/Preferences"),
        r#"{"profile":{"default_content_setting_values":{"javascript":2}}}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let (dom, err) = browse(&browser, &no_js, &page, &["--dump-dom".to_string()]);
    let without_js = started.elapsed();
    assert_no_policy_refusal(&err);
    // The filter bar is there without the script (the style sheet filters); only the count,
    // which the script writes, is not.
    assert!(dom.contains("<form id=\"filters\""), "{err}");
    assert!(!dom.contains("findings shown</span>"));
    for v in verdicts {
        assert!(
            dom.contains(&format!(">{v}</span>")),
            "no {v} without JavaScript"
        );
    }
    // Without the script every finding is there, none hidden.
    assert!(dom.matches("<tr class=\"finding\"").count() > 100);
    assert!(!dom.contains("<tr class=\"finding\" hidden"));

    css_filters_hide_what_is_not_selected(&browser, dir.path(), &page);

    // The screenshots stay under the target directory for a person (or CI) to look at.
    let kept = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&kept).unwrap_or_else(|e| panic!("{}: {e}", kept.display()));
    std::fs::copy(&page, kept.join("fleet.html")).unwrap_or_else(|e| panic!("{e}"));
    let mut shots = Vec::new();
    for (name, profile) in [("js", &profile), ("no-js", &no_js)] {
        let shot = kept.join(format!("fleet-{name}.png"));
        let _ = std::fs::remove_file(&shot);
        let started = Instant::now();
        let (_, err) = browse(
            &browser,
            profile,
            &page,
            &[
                "--window-size=1280,2000".to_string(),
                format!("--screenshot={}", shot.display()),
            ],
        );
        let took = started.elapsed();
        let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{err}"));
        assert!(
            png.len() > 10_000,
            "{name}: screenshot of {} bytes",
            png.len()
        );
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
        shots.push(format!(
            "{name} screenshot {took:.1?} ({} bytes)",
            png.len()
        ));
    }
    eprintln!(
        "chromium: DOM {with_js:.1?} with JavaScript, {without_js:.1?} without; {}; in {}",
        shots.join(", "),
        kept.display()
    );
}

/// A copy of the page with the filters set as a reader would set them (ADJUST edits the
/// bar's markup) and the page's own script removed, so only the style sheet filters; a probe
/// script (allowed by a test-only policy) writes down which finding rows the browser lays out.
/// Returns (data-status, data-check, shown) per row.
fn laid_out_rows(
    browser: &Path,
    dir: &Path,
    page: &Path,
    name: &str,
    adjust: &dyn Fn(String) -> String,
) -> Vec<(String, String, bool)> {
    let html = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("{e}"));
    let start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap_or_else(|| panic!("no policy"));
    let end = start + html[start..].find('>').unwrap_or(0) + 1;
    let mut html = format!("{}{}", &html[..start], &html[end..]);
    let script = html
        .rfind("<script>")
        .unwrap_or_else(|| panic!("no script"));
    let script_end = html
        .rfind("</script>")
        .unwrap_or_else(|| panic!("no script end"))
        + 9;
    html.replace_range(
        script..script_end,
        "<script>document.querySelectorAll('tr.finding').forEach(function (r) {\
         r.setAttribute('data-shown', getComputedStyle(r).display !== 'none');});</script>",
    );
    let html = adjust(html);
    let probe = dir.join(format!("{name}.html"));
    std::fs::write(&probe, html).unwrap_or_else(|e| panic!("{e}"));
    let (dom, err) = browse(
        browser,
        &dir.join(format!("profile-{name}")),
        &probe,
        &["--dump-dom".to_string()],
    );
    let doc = scraper::Html::parse_document(&dom);
    let rows: Vec<(String, String, bool)> = doc
        .select(&scraper::Selector::parse("tr.finding").unwrap_or_else(|e| panic!("{e}")))
        .map(|r| {
            let a = |k: &str| r.value().attr(k).unwrap_or_default().to_string();
            let shown = match r.value().attr("data-shown") {
                Some("true") => true,
                Some("false") => false,
                other => panic!("{name}: the probe did not run ({other:?}):\n{err}"),
            };
            (a("data-status"), a("data-check"), shown)
        })
        .collect();
    assert!(rows.len() > 100, "{name}: {} rows", rows.len());
    rows
}

/// With JavaScript's help taken away, unticking a status hides its rows and choosing a check
/// leaves only its rows: the filters are CSS (`:has`, `:checked`).
fn css_filters_hide_what_is_not_selected(browser: &Path, dir: &Path, page: &Path) {
    let all = laid_out_rows(browser, dir, page, "all", &|h| h);
    assert!(
        all.iter().all(|(_, _, shown)| *shown),
        "a row hidden unfiltered"
    );

    let no_pass = laid_out_rows(browser, dir, page, "no-pass", &|h| {
        h.replace(
            "id=\"show-pass\" value=\"pass\" checked>",
            "id=\"show-pass\" value=\"pass\">",
        )
    });
    assert!(no_pass.iter().any(|(st, _, _)| st == "pass"));
    for (st, check, shown) in &no_pass {
        assert_eq!(*shown, st != "pass", "{check} {st} with pass unticked");
    }

    let pick = "DEV001";
    let one_check = laid_out_rows(browser, dir, page, "one-check", &|h| {
        h.replace(
            "<option value=\"\" selected>all</option>",
            "<option value=\"\">all</option>",
        )
        .replace(
            &format!("<option value=\"{pick}\">"),
            &format!("<option value=\"{pick}\" selected>"),
        )
    });
    assert!(one_check.iter().any(|(_, c, _)| c == pick));
    for (st, check, shown) in &one_check {
        assert_eq!(*shown, check == pick, "{check} {st} with {pick} chosen");
    }
}
