//! Preflight: compare each check's required Graph permissions with what the token carries
//! (`roles` for app-only, `scp` for delegated), before any Graph call.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::checks::registry::CheckMeta;
use crate::graph::{TokenClaims, TokenKind};
use crate::model::SkipReason;

/// Directory object families that `Directory.Read.All` covers for reading.
const DIRECTORY_READ_COVERS: &[&str] = &[
    "user",
    "group",
    "groupmember",
    "device",
    "organization",
    "domain",
    "application",
    "directory",
];

fn parts(p: &str) -> (String, String, String) {
    let lower = p.trim().to_ascii_lowercase();
    let mut it = lower.splitn(3, '.');
    let resource = it.next().unwrap_or_default().to_string();
    let action = it.next().unwrap_or_default().to_string();
    let qualifier = it.next().unwrap_or_default().to_string();
    (resource, action, qualifier)
}

/// Does the granted permission `have` satisfy the needed `need`? Broader grants count:
/// `X.ReadWrite.Q` ⊇ `X.Read.Q`; `X.Read.All` ⊇ `X.ReadBasic.All` and `X.Read`;
/// `Directory.Read(Write).All` ⊇ reading users, groups, members, devices, organization, domains;
/// `Group.Read.All` ⊇ `GroupMember.Read.All`.
pub fn grants(have: &str, need: &str) -> bool {
    if have.trim().eq_ignore_ascii_case(need.trim()) {
        return true;
    }
    let (hr, ha, hq) = parts(have);
    let (nr, na, nq) = parts(need);
    let reading = matches!(na.as_str(), "read" | "readbasic");
    let have_reads = matches!(ha.as_str(), "read" | "readwrite");
    if hr == nr {
        // Same resource: a write grant includes the read, .All includes the narrower forms.
        let action_ok =
            ha == na || (ha == "readwrite" && reading) || (ha == "read" && na == "readbasic");
        let qualifier_ok = hq == nq || (hq == "all" && (nq.is_empty() || na == "readbasic"));
        return action_ok && qualifier_ok;
    }
    if hr == "directory" && hq == "all" && have_reads && reading {
        return DIRECTORY_READ_COVERS.contains(&nr.as_str());
    }
    if hr == "group" && nr == "groupmember" && hq == "all" && have_reads && reading {
        return true;
    }
    false
}

/// Delegated grants Graph documents as higher privileged for another permission's calls even
/// though the names do not nest (`deviceRegistrationPolicy` GET lists delegated
/// `Policy.Read.All`; its application form is not accepted there).
const DELEGATED_IMPLIES: &[(&str, &str)] =
    &[("Policy.Read.All", "Policy.Read.DeviceConfiguration")];

/// [`grants`], plus the documented implications that hold for this token kind only.
pub fn grants_for(kind: TokenKind, have: &str, need: &str) -> bool {
    grants(have, need)
        || (kind == TokenKind::Delegated
            && DELEGATED_IMPLIES.iter().any(|(h, n)| {
                h.eq_ignore_ascii_case(have.trim()) && n.eq_ignore_ascii_case(need.trim())
            }))
}

fn missing_for(kind: TokenKind, granted: &[String], needed: &[&str]) -> Vec<String> {
    needed
        .iter()
        .filter(|n| !granted.iter().any(|g| grants_for(kind, g, n)))
        .map(|n| n.to_string())
        .collect()
}

/// Outcome of one check's permission comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PermissionStatus {
    Granted,
    Missing,
    AppOnlyUnsupported,
    /// The token is not a decodable JWT: nothing can be predicted.
    Unknown,
}

impl PermissionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionStatus::Granted => "granted",
            PermissionStatus::Missing => "missing",
            PermissionStatus::AppOnlyUnsupported => "app-only-unsupported",
            PermissionStatus::Unknown => "unknown",
        }
    }
}

/// One row of `auth status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionRow {
    pub check: String,
    pub application: Vec<String>,
    pub delegated: Vec<String>,
    pub status: PermissionStatus,
    pub missing: Vec<String>,
    /// What to do when the check cannot run with this token (absent when it can).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The command that gives a delegated token (browser or device code sign-in, cached for later
/// runs), with the `--auth` to run again with.
pub const DELEGATED_SIGN_IN_HINT: &str = crate::graph::auth::hints::DELEGATED_SIGN_IN;

fn fix_for(
    c: &CheckMeta,
    kind: TokenKind,
    status: PermissionStatus,
    missing: &[String],
) -> Option<String> {
    match status {
        PermissionStatus::AppOnlyUnsupported => Some(format!(
            "Graph serves this to delegated tokens only: {DELEGATED_SIGN_IN_HINT} (the user needs {} and a directory role such as Global Reader)",
            if c.permissions.delegated.is_empty() {
                "read access".to_string()
            } else {
                c.permissions.delegated.join(" and ")
            }
        )),
        PermissionStatus::Missing => Some(match kind {
            TokenKind::Application => format!(
                "grant the application permission {} to the app registration and give admin consent",
                missing.join(" and ")
            ),
            _ => format!(
                "consent to the delegated permission {} for this client (or sign in with an app that has it)",
                missing.join(" and ")
            ),
        }),
        PermissionStatus::Granted | PermissionStatus::Unknown => None,
    }
}

fn needs_graph(c: &CheckMeta) -> bool {
    !c.permissions.application.is_empty()
        || !c.permissions.delegated.is_empty()
        || c.permissions.delegated_only
}

fn evaluate(c: &CheckMeta, kind: TokenKind, granted: &[String]) -> (PermissionStatus, Vec<String>) {
    let p = &c.permissions;
    match kind {
        TokenKind::Application if p.delegated_only => {
            (PermissionStatus::AppOnlyUnsupported, Vec::new())
        }
        TokenKind::Application | TokenKind::Delegated => {
            let needed = if kind == TokenKind::Application {
                p.application
            } else {
                p.delegated
            };
            let missing = missing_for(kind, granted, needed);
            if missing.is_empty() {
                (PermissionStatus::Granted, missing)
            } else {
                (PermissionStatus::Missing, missing)
            }
        }
        TokenKind::Unknown => (PermissionStatus::Unknown, Vec::new()),
    }
}

/// Rows for `checks` (those that call Graph), in ID order.
pub fn permission_rows_for(checks: &[&CheckMeta], claims: &TokenClaims) -> Vec<PermissionRow> {
    let kind = claims.kind();
    checks
        .iter()
        .filter(|c| needs_graph(c))
        .map(|c| {
            let (status, missing) = evaluate(c, kind, claims.granted());
            let fix = fix_for(c, kind, status, &missing);
            PermissionRow {
                check: c.id.to_string(),
                application: c
                    .permissions
                    .application
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                delegated: c
                    .permissions
                    .delegated
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                status,
                missing,
                fix,
            }
        })
        .collect()
}

/// Checks of `checks` that cannot run with this token, and why.
pub fn permission_gaps_for(
    checks: &'static [&'static CheckMeta],
    claims: &TokenClaims,
) -> Vec<(&'static str, SkipReason)> {
    let kind = claims.kind();
    checks
        .iter()
        .filter(|c| needs_graph(c))
        .filter_map(|c| match evaluate(c, kind, claims.granted()) {
            (PermissionStatus::Missing, needed) => {
                Some((c.id, SkipReason::InsufficientPermission { needed }))
            }
            (PermissionStatus::AppOnlyUnsupported, _) => {
                Some((c.id, SkipReason::AppOnlyUnsupported))
            }
            _ => None,
        })
        .collect()
}

/// `enroll-doctor auth status` as data (its JSON shape).
#[derive(Debug, Clone, Serialize)]
pub struct AuthStatus {
    pub identity: String,
    pub tenant_id: Option<String>,
    pub token_kind: TokenKind,
    pub expires_at: DateTime<Utc>,
    pub auth_method: String,
    /// Application permissions (roles) or delegated scopes the token carries.
    pub granted: Vec<String>,
    pub checks: Vec<PermissionRow>,
    /// Result of a harmless Graph call made with the token (`ok: …` or the error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_check: Option<String>,
}

impl AuthStatus {
    pub fn new(
        claims: &TokenClaims,
        expires_at: DateTime<Utc>,
        auth_method: &str,
        checks: &[&CheckMeta],
    ) -> AuthStatus {
        let mut granted = claims.granted().to_vec();
        granted.sort();
        AuthStatus {
            identity: claims.identity(),
            tenant_id: claims.tenant_id.clone(),
            token_kind: claims.kind(),
            expires_at: claims.expires_at.unwrap_or(expires_at),
            auth_method: auth_method.to_string(),
            granted,
            checks: permission_rows_for(checks, claims),
            graph_check: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::registry::{self, Area, Permissions};
    use crate::model::Severity;

    fn meta(id: &'static str, p: Permissions) -> CheckMeta {
        CheckMeta {
            id,
            name: "x",
            title: "x",
            severity: Severity::High,
            area: Area::Tenant,
            permissions: p,
            what_it_checks: "",
            why_it_matters: "",
            how_to_fix: "",
            references: &[],
        }
    }

    static CHECK_LIST: std::sync::LazyLock<Vec<CheckMeta>> = std::sync::LazyLock::new(|| {
        vec![
            meta(
                "TEN001",
                Permissions {
                    application: &["Organization.Read.All"],
                    delegated: &["User.Read"],
                    delegated_only: false,
                },
            ),
            meta(
                "TEN003",
                Permissions {
                    application: &[],
                    delegated: &["Policy.Read.All"],
                    delegated_only: true,
                },
            ),
            meta(
                "USR003",
                Permissions {
                    application: &["User.Read.All", "GroupMember.Read.All"],
                    delegated: &["User.ReadBasic.All", "GroupMember.Read.All"],
                    delegated_only: false,
                },
            ),
            meta("DEV001", registry::NO_PERMISSIONS),
        ]
    });
    static CHECKS: std::sync::LazyLock<Vec<&'static CheckMeta>> =
        std::sync::LazyLock::new(|| CHECK_LIST.iter().collect());

    fn claims(kind: &str, perms: &[&str]) -> TokenClaims {
        let perms: Vec<String> = perms.iter().map(|s| s.to_string()).collect();
        TokenClaims {
            tenant_id: Some("t".into()),
            roles: if kind == "app" { perms.clone() } else { vec![] },
            scopes: if kind == "app" { vec![] } else { perms },
            idtyp: Some(kind.into()),
            upn: (kind == "user").then(|| "a@b.c".into()),
            ..Default::default()
        }
    }

    #[test]
    fn broader_permissions_satisfy_narrower() {
        assert!(grants("User.Read.All", "user.read.all"));
        assert!(grants("User.ReadWrite.All", "User.Read.All"));
        assert!(grants("User.Read.All", "User.ReadBasic.All"));
        assert!(grants("User.Read.All", "User.Read"));
        assert!(grants("Directory.Read.All", "GroupMember.Read.All"));
        assert!(grants("Directory.ReadWrite.All", "Device.Read.All"));
        assert!(grants("Group.Read.All", "GroupMember.Read.All"));
        assert!(grants(
            "DeviceManagementServiceConfig.ReadWrite.All",
            "DeviceManagementServiceConfig.Read.All"
        ));
        assert!(grants(
            "Policy.ReadWrite.DeviceConfiguration",
            "Policy.Read.DeviceConfiguration"
        ));
        // Not broader.
        assert!(!grants("User.Read", "User.Read.All"));
        assert!(!grants("User.ReadBasic.All", "User.Read.All"));
        assert!(!grants("Directory.Read.All", "Policy.Read.All"));
        assert!(!grants(
            "Directory.Read.All",
            "DeviceManagementManagedDevices.Read.All"
        ));
        assert!(!grants("User.Read.All", "User.ReadWrite.All"));
        assert!(!grants("GroupMember.Read.All", "Group.Read.All"));
        // Documented for delegated calls only.
        assert!(grants_for(
            TokenKind::Delegated,
            "Policy.Read.All",
            "Policy.Read.DeviceConfiguration"
        ));
        assert!(!grants_for(
            TokenKind::Application,
            "Policy.Read.All",
            "Policy.Read.DeviceConfiguration"
        ));
    }

    #[test]
    fn app_token_gaps() {
        let c = claims("app", &["Organization.Read.All", "User.Read.All"]);
        let gaps = permission_gaps_for(&CHECKS, &c);
        assert_eq!(
            gaps,
            vec![
                ("TEN003", SkipReason::AppOnlyUnsupported),
                (
                    "USR003",
                    SkipReason::InsufficientPermission {
                        needed: vec!["GroupMember.Read.All".into()]
                    }
                ),
            ]
        );
        let rows = permission_rows_for(&CHECKS, &c);
        assert_eq!(rows.len(), 3, "device-only checks are not listed");
        assert_eq!(rows[0].status, PermissionStatus::Granted);
        assert_eq!(rows[1].status, PermissionStatus::AppOnlyUnsupported);
        assert_eq!(rows[2].missing, vec!["GroupMember.Read.All".to_string()]);
        assert_eq!(rows[0].fix, None);
        let fix = rows[1].fix.as_deref().unwrap();
        assert!(
            fix.contains("enroll-doctor auth login --auth browser")
                && fix.contains("Policy.Read.All"),
            "{fix}"
        );
        let fix = rows[2].fix.as_deref().unwrap();
        assert!(
            fix.contains("GroupMember.Read.All") && fix.contains("admin consent"),
            "{fix}"
        );
    }

    #[test]
    fn delegated_token_gaps() {
        let c = claims("user", &["Directory.Read.All", "Policy.Read.All"]);
        // Directory.Read.All covers reading the signed-in user and group members.
        let gaps = permission_gaps_for(&CHECKS, &c);
        assert_eq!(gaps.len(), 0, "{gaps:?}");
        let c = claims("user", &["User.Read"]);
        let gaps = permission_gaps_for(&CHECKS, &c);
        assert_eq!(
            gaps,
            vec![
                (
                    "TEN003",
                    SkipReason::InsufficientPermission {
                        needed: vec!["Policy.Read.All".into()]
                    }
                ),
                (
                    "USR003",
                    SkipReason::InsufficientPermission {
                        needed: vec!["User.ReadBasic.All".into(), "GroupMember.Read.All".into()]
                    }
                ),
            ]
        );
    }

    #[test]
    fn unknown_token_has_no_gaps() {
        let c = TokenClaims::default();
        assert!(permission_gaps_for(&CHECKS, &c).is_empty());
        let s = AuthStatus::new(&c, Utc::now(), "access-token", &CHECKS);
        assert!(
            s.checks
                .iter()
                .all(|r| r.status == PermissionStatus::Unknown)
        );
    }
}
