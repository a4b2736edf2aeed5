//! Certificate credentials: a signed JWT client assertion (`private_key_jwt`).

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde::Serialize;
use sha1::Digest as _;

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
    /// Reads a PEM file holding the certificate and the key (in either order), or a certificate
    /// whose key sits in a `.key` file next to it.
    pub fn load(path: &Path, algorithm: AssertionAlgorithm) -> Result<Self, AuthError> {
        let err = |message: String| AuthError::Certificate {
            path: path.to_path_buf(),
            message,
        };
        let text = fsio::read_regular(path, fsio::CERTIFICATE).map_err(|e| err(e.reason()))?;
        let mut blocks = pem::parse_many(&text).map_err(|e| err(format!("not PEM: {e}")))?;
        if !blocks.iter().any(is_key) {
            let key_path: PathBuf = path.with_extension("key");
            if let Ok(key_text) = fsio::read_regular(&key_path, fsio::CERTIFICATE) {
                blocks.extend(
                    pem::parse_many(&key_text)
                        .map_err(|e| err(format!("{} is not PEM: {e}", key_path.display())))?,
                );
            }
        }
        Self::from_pem_blocks(&blocks, algorithm).map_err(err)
    }

    /// From PEM text already in memory (tests, combined files).
    pub fn from_pem(text: &[u8], algorithm: AssertionAlgorithm) -> Result<Self, String> {
        let blocks = pem::parse_many(text).map_err(|e| format!("not PEM: {e}"))?;
        Self::from_pem_blocks(&blocks, algorithm)
    }

    fn from_pem_blocks(blocks: &[pem::Pem], algorithm: AssertionAlgorithm) -> Result<Self, String> {
        if blocks.iter().any(|b| b.tag() == "ENCRYPTED PRIVATE KEY") {
            return Err(
                "the private key is encrypted; export it without a passphrase (e.g. \
                 `openssl pkcs8 -topk8 -nocrypt`) and protect the file's permissions instead"
                    .into(),
            );
        }
        if blocks.iter().any(|b| b.tag() == "EC PRIVATE KEY") {
            return Err(NOT_RSA.into());
        }
        let cert = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or("no CERTIFICATE block")?;
        let key_block = blocks
            .iter()
            .find(|b| is_key(b))
            .ok_or("no PRIVATE KEY or RSA PRIVATE KEY block (put the key in the same file or in a .key file beside it)")?;
        // jsonwebtoken reads only the first block of a PEM string, so hand it the key alone.
        let key = EncodingKey::from_rsa_pem(pem::encode(key_block).as_bytes()).map_err(|e| {
            if EncodingKey::from_ec_pem(pem::encode(key_block).as_bytes()).is_ok()
                || EncodingKey::from_ed_pem(pem::encode(key_block).as_bytes()).is_ok()
            {
                NOT_RSA.to_string()
            } else {
                format!("unusable RSA private key: {e}")
            }
        })?;
        let der = cert.contents();
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

const NOT_RSA: &str = "the private key is not RSA; Entra certificate credentials (PS256/RS256 \
     client assertions) need an RSA key of 2048 bits or more";

fn is_key(b: &pem::Pem) -> bool {
    matches!(b.tag(), "PRIVATE KEY" | "RSA PRIVATE KEY")
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
        let cred = CertificateCredential::from_pem(combined.as_bytes(), AssertionAlgorithm::Ps256)
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
        let cred = CertificateCredential::from_pem(
            format!("{cert}{key}").as_bytes(),
            AssertionAlgorithm::Rs256,
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
        let e = CertificateCredential::from_pem(cert.as_bytes(), AssertionAlgorithm::Ps256)
            .unwrap_err();
        assert!(e.contains("PRIVATE KEY"), "{e}");
        let enc = format!(
            "{cert}-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
        );
        let e =
            CertificateCredential::from_pem(enc.as_bytes(), AssertionAlgorithm::Ps256).unwrap_err();
        assert!(e.contains("encrypted"), "{e}");
    }

    #[test]
    fn ec_keys_are_refused_with_the_reason() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec!["ec".into()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let pem = format!("{}{}", cert.pem(), key.serialize_pem());
        let e =
            CertificateCredential::from_pem(pem.as_bytes(), AssertionAlgorithm::Ps256).unwrap_err();
        assert!(e.contains("not RSA"), "{e}");
    }

    #[test]
    fn key_beside_the_certificate_is_found() {
        let (cert, key, _) = self_signed();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.pem"), cert).unwrap();
        std::fs::write(dir.path().join("app.key"), key).unwrap();
        let cred =
            CertificateCredential::load(&dir.path().join("app.pem"), AssertionAlgorithm::Ps256)
                .unwrap();
        assert!(!cred.thumbprint_sha256.is_empty());
        let e =
            CertificateCredential::load(&dir.path().join("nope.pem"), AssertionAlgorithm::Ps256)
                .unwrap_err();
        assert!(e.to_string().contains("nope.pem"), "{e}");
    }
}
