//! Access-token claims, decoded for diagnostics only. Microsoft asks clients to treat access
//! tokens as opaque, so nothing here is validated and nothing is trusted for security: the
//! claims only predict which calls will be refused, so checks can be skipped with a reason.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Application (app-only, `roles`) or delegated (a signed-in user, `scp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Application,
    Delegated,
    /// Neither `roles`, `scp` nor `idtyp`: not a recognisable Graph token.
    Unknown,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Application => "application",
            TokenKind::Delegated => "delegated",
            TokenKind::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
struct RawClaims {
    tid: Option<String>,
    /// `null` is tolerated like a missing claim.
    #[serde(default)]
    roles: Option<Vec<String>>,
    scp: Option<String>,
    upn: Option<String>,
    unique_name: Option<String>,
    preferred_username: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
    app_displayname: Option<String>,
    exp: Option<i64>,
    idtyp: Option<String>,
    oid: Option<String>,
    aud: Option<serde_json::Value>,
}

/// The claims a preflight needs. Contains no secret (the signature part is never kept).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenClaims {
    pub tenant_id: Option<String>,
    /// Application permissions (app-only tokens).
    pub roles: Vec<String>,
    /// Delegated scopes (user tokens), split on spaces.
    pub scopes: Vec<String>,
    pub upn: Option<String>,
    pub app_id: Option<String>,
    pub app_display_name: Option<String>,
    pub object_id: Option<String>,
    pub audience: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// `app` or `user` when the optional claim is present.
    pub idtyp: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimsError {
    #[error("the access token is not a JWT (expected three dot-separated parts)")]
    NotJwt,
    #[error("the access token payload is not base64url JSON")]
    BadPayload,
}

impl TokenClaims {
    /// Decodes the JWT payload (the middle part) without verifying anything.
    pub fn decode(token: &str) -> Result<TokenClaims, ClaimsError> {
        let mut parts = token.trim().split('.');
        let (Some(_header), Some(payload), Some(_sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ClaimsError::NotJwt);
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| ClaimsError::BadPayload)?;
        let raw: RawClaims = serde_json::from_slice(&bytes).map_err(|_| ClaimsError::BadPayload)?;
        Ok(TokenClaims {
            tenant_id: raw.tid,
            roles: raw.roles.unwrap_or_default(),
            scopes: raw
                .scp
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            upn: raw.upn.or(raw.preferred_username).or(raw.unique_name),
            app_id: raw.appid.or(raw.azp),
            app_display_name: raw.app_displayname,
            object_id: raw.oid,
            audience: raw.aud.map(|a| match a {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }),
            expires_at: raw.exp.and_then(|e| DateTime::<Utc>::from_timestamp(e, 0)),
            idtyp: raw.idtyp,
        })
    }

    pub fn kind(&self) -> TokenKind {
        match self.idtyp.as_deref() {
            Some("app") => return TokenKind::Application,
            Some("user") => return TokenKind::Delegated,
            _ => {}
        }
        if !self.scopes.is_empty() || self.upn.is_some() {
            TokenKind::Delegated
        } else if !self.roles.is_empty() || self.app_id.is_some() {
            TokenKind::Application
        } else {
            TokenKind::Unknown
        }
    }

    /// Who the token speaks for: the user's UPN, else the app id.
    pub fn identity(&self) -> String {
        match self.kind() {
            TokenKind::Delegated => self
                .upn
                .clone()
                .or_else(|| self.object_id.clone())
                .unwrap_or_else(|| "unknown user".into()),
            _ => match (&self.app_display_name, &self.app_id) {
                (Some(name), Some(id)) => format!("{name} ({id})"),
                (None, Some(id)) => id.clone(),
                (Some(name), None) => name.clone(),
                (None, None) => "unknown application".into(),
            },
        }
    }

    /// The permissions that apply to this token's kind.
    pub fn granted(&self) -> &[String] {
        match self.kind() {
            TokenKind::Delegated => &self.scopes,
            _ => &self.roles,
        }
    }
}

#[cfg(test)]
pub(crate) fn fake_jwt(payload: &serde_json::Value) -> String {
    let enc = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        enc(br#"{"alg":"RS256","typ":"JWT"}"#),
        enc(payload.to_string().as_bytes()),
        enc(b"signature")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn app_only_token() {
        let t = fake_jwt(&json!({
            "aud": "https://graph.microsoft.com", "tid": "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13",
            "appid": "11111111-2222-3333-4444-555555555555", "app_displayname": "auditor",
            "roles": ["User.Read.All", "Device.Read.All"], "idtyp": "app", "exp": 1_900_000_000
        }));
        let c = TokenClaims::decode(&t).unwrap();
        assert_eq!(c.kind(), TokenKind::Application);
        assert_eq!(c.granted(), ["User.Read.All", "Device.Read.All"]);
        assert_eq!(
            c.identity(),
            "auditor (11111111-2222-3333-4444-555555555555)"
        );
        assert_eq!(c.expires_at.unwrap().timestamp(), 1_900_000_000);
        assert_eq!(c.audience.as_deref(), Some("https://graph.microsoft.com"));
    }

    #[test]
    fn delegated_token_without_idtyp() {
        let t = fake_jwt(&json!({
            "tid": "t", "upn": "jdoe@contoso.com", "scp": "Policy.Read.All  User.Read.All",
            "appid": "14d82eec-204b-4c2f-b7e8-296a70dab67e"
        }));
        let c = TokenClaims::decode(&t).unwrap();
        assert_eq!(c.kind(), TokenKind::Delegated);
        assert_eq!(c.granted(), ["Policy.Read.All", "User.Read.All"]);
        assert_eq!(c.identity(), "jdoe@contoso.com");
    }

    #[test]
    fn null_roles_and_padded_payload_are_tolerated() {
        let t = fake_jwt(&json!({"tid": "t", "roles": null, "appid": "a", "idtyp": "app"}));
        let c = TokenClaims::decode(&format!("{t}\n")).unwrap();
        assert_eq!(c.kind(), TokenKind::Application);
        assert!(c.granted().is_empty());
    }

    #[test]
    fn rejects_non_jwts() {
        assert_eq!(TokenClaims::decode("opaque"), Err(ClaimsError::NotJwt));
        assert_eq!(TokenClaims::decode("a.!!!.c"), Err(ClaimsError::BadPayload));
        assert_eq!(TokenClaims::decode("a.b.c.d"), Err(ClaimsError::NotJwt));
    }
}
