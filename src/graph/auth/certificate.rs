//! Certificate credentials: a signed JWT client assertion (`private_key_jwt`).
//!
//! The assertion as Entra documents it (MicrosoftDocs/entra-docs,
//! docs/identity-platform/certificate-credentials.md): header `alg` PS256 (PSS padding), `typ`
//! JWT, `x5t#S256` the base64url SHA-256 of the certificate's DER; claims `aud` (the token
//! endpoint), `iss` = `sub` = the client id, `jti`, `nbf`, `iat`, and `exp` 5–10 minutes after
//! `nbf`. RS256 with the SHA-1 `x5t` stays for older setups. The files it comes from are read
//! in `cert_formats.rs` (PFX, PEM, encrypted PKCS#8; RSA keys only).

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde::Serialize;
use sha1::Digest as _;

use super::cert_formats::{self, Format, KeyPair};
use super::error::AuthError;
use crate::config::AssertionAlgorithm;
use crate::fsio;

/// Lifetime of an assertion; Entra recommends a short one.
const ASSERTION_LIFETIME_SECS: i64 = 600;

/// A certificate and its private key, ready to sign assertions. `Debug` shows thumbprints only.
#[derive(Clone)]
pub struct CertificateCredential {
    key: EncodingKey,
    /// base64url SHA-256 of the certificate DER (`x5t#S256`).
    pub thumbprint_sha256: String,
    /// base64url SHA-1 of the certificate DER (`x5t`, legacy RS256 form).
    pub thumbprint_sha1: String,
    pub algorithm: AssertionAlgorithm,
}

impl std::fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("thumbprint_sha256", &self.thumbprint_sha256)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

impl CertificateCredential {
    /// Reads the certificate and its RSA key from `path`: a PKCS#12/PFX file (`.pfx`/`.p12`, or
    /// DER or base64 content), or PEM holding the certificate and the key in either order (the
    /// key possibly an encrypted PKCS#8 one), or a PEM certificate whose key sits in a `.key`
    /// file next to it. `password` (AZURE_CLIENT_CERTIFICATE_PASSWORD) opens a PFX or an
    /// encrypted key; without it a PFX is tried with the empty password.
    pub fn load(
        path: &Path,
        algorithm: AssertionAlgorithm,
        password: Option<&SecretString>,
    ) -> Result<Self, AuthError> {
        let err = |message: String| AuthError::Certificate {
            path: path.to_path_buf(),
            message,
        };
        let bytes = fsio::read_regular(path, fsio::CERTIFICATE).map_err(|e| err(e.reason()))?;
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("pfx") || e.eq_ignore_ascii_case("p12") => {
                Format::Pkcs12
            }
            _ => Format::Detect,
        };
        let pair = match cert_formats::parse_pem(&bytes) {
            // A PEM certificate alone: its key may be in a .key file beside it.
            Ok(mut blocks)
                if format == Format::Detect
                    && !blocks.is_empty()
                    && !blocks.iter().any(cert_formats::is_key) =>
            {
                let key_path: PathBuf = path.with_extension("key");
                if let Ok(key_text) = fsio::read_regular(&key_path, fsio::CERTIFICATE) {
                    blocks.extend(
                        cert_formats::parse_pem(&key_text)
                            .map_err(|e| err(format!("{}: {e}", key_path.display())))?,
                    );
                }
                cert_formats::from_pem_blocks(&blocks, password)
            }
            _ => cert_formats::read(&bytes, password, format),
        }
        .map_err(err)?;
        Self::from_pair(pair, algorithm).map_err(err)
    }

    /// From a file's bytes already in memory (tests, fuzzing): as [`Self::load`] without the
    /// `.key` file beside it.
    pub fn from_bytes(
        bytes: &[u8],
        algorithm: AssertionAlgorithm,
        password: Option<&SecretString>,
    ) -> Result<Self, String> {
        Self::from_pair(
            cert_formats::read(bytes, password, Format::Detect)?,
            algorithm,
        )
    }

    fn from_pair(pair: KeyPair, algorithm: AssertionAlgorithm) -> Result<Self, String> {
        let key = EncodingKey::from_rsa_der(&pair.rsa_pkcs1);
        // jsonwebtoken only parses the key when it signs: sign once now, so a key the signer
        // refuses fails here, before any request, and not at the first token.
        jsonwebtoken::encode(&Header::new(Algorithm::PS256), &serde_json::json!({}), &key)
            .map_err(|_| {
                "the RSA private key cannot sign (damaged, or a size the signer refuses)"
                    .to_string()
            })?;
        let der = pair.cert_der.as_slice();
        Ok(CertificateCredential {
            key,
            thumbprint_sha256: URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(der)),
            thumbprint_sha1: URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(der)),
            algorithm,
        })
    }

    /// A fresh signed assertion for `token_url` (its `aud`), valid for ten minutes.
    pub fn assertion(&self, client_id: &str, token_url: &str) -> Result<SecretString, AuthError> {
        let mut header = match self.algorithm {
            AssertionAlgorithm::Ps256 => Header::new(Algorithm::PS256),
            AssertionAlgorithm::Rs256 => {
                let mut h = Header::new(Algorithm::RS256);
                h.x5t = Some(self.thumbprint_sha1.clone());
                h
            }
        };
        header.x5t_s256 = Some(self.thumbprint_sha256.clone());
        let now = Utc::now().timestamp();
        let claims = AssertionClaims {
            aud: token_url,
            iss: client_id,
            sub: client_id,
            jti: uuid::Uuid::new_v4().to_string(),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(SecretString::from)
            .map_err(|e| AuthError::Certificate {
                path: PathBuf::new(),
                message: format!("cannot sign the client assertion: {e}"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
    use secrecy::ExposeSecret;

    /// A self-signed RSA certificate and key, as PEM.
    fn self_signed() -> (String, String, String) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec!["enroll-doctor-test".into()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem(), key.public_key_pem())
    }

    #[test]
    fn combined_pem_signs_a_verifiable_ps256_assertion() {
        let (cert, key, public) = self_signed();
        // Key first, certificate second: order must not matter.
        let combined = format!("{key}\n{cert}");
        let cred =
            CertificateCredential::from_bytes(combined.as_bytes(), AssertionAlgorithm::Ps256, None)
                .unwrap();
        let url = "https://login.microsoftonline.com/t1/oauth2/v2.0/token";
        let jwt = cred.assertion("client-1", url).unwrap();
        let header = decode_header(jwt.expose_secret()).unwrap();
        assert_eq!(header.alg, Algorithm::PS256);
        assert_eq!(
            header.x5t_s256.as_deref(),
            Some(cred.thumbprint_sha256.as_str())
        );
        assert!(header.x5t.is_none());
        let mut v = Validation::new(Algorithm::PS256);
        v.set_audience(&[url]);
        v.set_issuer(&["client-1"]);
        let data = decode::<serde_json::Value>(
            jwt.expose_secret(),
            &DecodingKey::from_rsa_pem(public.as_bytes()).unwrap(),
            &v,
        )
        .unwrap();
        let c = data.claims;
        assert_eq!(c["sub"], "client-1");
        assert_eq!(c["exp"].as_i64().unwrap() - c["nbf"].as_i64().unwrap(), 600);
        assert!(uuid::Uuid::parse_str(c["jti"].as_str().unwrap()).is_ok());
        // Every assertion is unique.
        let again = cred.assertion("client-1", url).unwrap();
        assert_ne!(again.expose_secret(), jwt.expose_secret());
        assert!(!format!("{cred:?}").contains("PRIVATE"));
    }

    #[test]
    fn rs256_adds_the_sha1_thumbprint() {
        let (cert, key, _) = self_signed();
        let cred = CertificateCredential::from_bytes(
            format!("{cert}{key}").as_bytes(),
            AssertionAlgorithm::Rs256,
            None,
        )
        .unwrap();
        let jwt = cred
            .assertion("c", "https://x/t/oauth2/v2.0/token")
            .unwrap();
        let header = decode_header(jwt.expose_secret()).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.x5t.as_deref(), Some(cred.thumbprint_sha1.as_str()));
    }

    #[test]
    fn missing_or_encrypted_key_is_explained() {
        let (cert, _, _) = self_signed();
        let e = CertificateCredential::from_bytes(cert.as_bytes(), AssertionAlgorithm::Ps256, None)
            .unwrap_err();
        assert!(e.contains("PRIVATE KEY"), "{e}");
        let enc = format!(
            "{cert}-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
        );
        let e = CertificateCredential::from_bytes(enc.as_bytes(), AssertionAlgorithm::Ps256, None)
            .unwrap_err();
        assert!(
            e.contains("encrypted: set AZURE_CLIENT_CERTIFICATE_PASSWORD"),
            "{e}"
        );
    }

    #[test]
    fn ec_keys_are_refused_with_the_reason() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec!["ec".into()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let pem = format!("{}{}", cert.pem(), key.serialize_pem());
        let e = CertificateCredential::from_bytes(pem.as_bytes(), AssertionAlgorithm::Ps256, None)
            .unwrap_err();
        assert!(e.contains("not RSA"), "{e}");
    }

    #[test]
    fn key_beside_the_certificate_is_found() {
        let (cert, key, _) = self_signed();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.pem"), cert).unwrap();
        std::fs::write(dir.path().join("app.key"), key).unwrap();
        let cred = CertificateCredential::load(
            &dir.path().join("app.pem"),
            AssertionAlgorithm::Ps256,
            None,
        )
        .unwrap();
        assert!(!cred.thumbprint_sha256.is_empty());
        let e = CertificateCredential::load(
            &dir.path().join("nope.pem"),
            AssertionAlgorithm::Ps256,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("nope.pem"), "{e}");
    }

    #[test]
    fn pfx_and_encrypted_keys_load_with_the_password_and_errors_name_the_file() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs");
        let app_der = pem::parse(std::fs::read(fixtures.join("app.crt")).unwrap())
            .unwrap()
            .into_contents();
        let thumbprint = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&app_der));
        let password = SecretString::from("test-only-Pfx-9");
        let ps256 = AssertionAlgorithm::Ps256;
        let cred =
            CertificateCredential::load(&fixtures.join("app-aes.pfx"), ps256, Some(&password))
                .unwrap();
        assert_eq!(cred.thumbprint_sha256, thumbprint);
        assert!(cred.assertion("c", "https://x/t/oauth2/v2.0/token").is_ok());

        let wrong = SecretString::from("Wrong-Pass-1");
        let e = CertificateCredential::load(&fixtures.join("app-legacy.pfx"), ps256, Some(&wrong))
            .unwrap_err()
            .to_string();
        assert!(e.contains("app-legacy.pfx"), "{e}");
        assert!(e.contains("does not open this PFX"), "{e}");
        assert!(!e.contains("Wrong-Pass-1"), "{e}");
        let e = CertificateCredential::load(&fixtures.join("app-aes.pfx"), ps256, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("set AZURE_CLIENT_CERTIFICATE_PASSWORD"), "{e}");

        // Any name: a PFX is known by its content; an encrypted key beside a certificate.
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(fixtures.join("app-3des.pfx"), dir.path().join("app.bin")).unwrap();
        std::fs::copy(fixtures.join("app.crt"), dir.path().join("app.pem")).unwrap();
        std::fs::copy(fixtures.join("app-enc.key"), dir.path().join("app.key")).unwrap();
        for name in ["app.bin", "app.pem"] {
            let cred = CertificateCredential::load(&dir.path().join(name), ps256, Some(&password))
                .unwrap();
            assert_eq!(cred.thumbprint_sha256, thumbprint, "{name}");
        }
        let e = CertificateCredential::load(&dir.path().join("app.pem"), ps256, Some(&wrong))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("app.pem") && e.contains("does not open the private key"),
            "{e}"
        );
    }
}
