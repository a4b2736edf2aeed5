//! The files a certificate credential comes in, read into one certificate and the RSA key that
//! belongs to it: PEM (certificate and key, the key possibly an encrypted PKCS#8 one), and
//! PKCS#12 / PFX (binary, or base64 as Azure Key Vault hands it out).
//!
//! Entra certificate credentials take RSA keys only ("Microsoft Entra ID currently supports only
//! RSA": MicrosoftDocs/entra-docs, docs/identity-platform/howto-create-self-signed-certificate.md),
//! so every other key type is refused here with what to do instead.
//!
//! Messages never contain the password, and name the environment variable it comes from.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p12_keystore::Pkcs12Archive;
use p12_keystore::error::Error as P12Error;
use pkcs8::ObjectIdentifier;
use pkcs8::der::Decode;
use pkcs8::pkcs5::pbes2;
use secrecy::{ExposeSecret, SecretString};

use crate::config::env_vars::CLIENT_CERTIFICATE_PASSWORD as PASSWORD_VAR;

/// A certificate (DER) and its RSA private key (PKCS#1 DER, as the signer takes it).
pub(super) struct KeyPair {
    pub cert_der: Vec<u8>,
    pub rsa_pkcs1: Vec<u8>,
}

/// How the caller sees the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// `.pfx` / `.p12`: PKCS#12 whatever the content looks like.
    Pkcs12,
    /// Decide by content: PEM text, DER (PKCS#12 or a lone certificate), or base64 PKCS#12.
    Detect,
}

/// PBKDF2 iterations allowed in an encrypted PKCS#8 key, as p12-keystore allows in a PFX:
/// OpenSSL writes 2,048, Windows 2,000 to 10,000; more is a file built to stall the tool.
const MAX_KDF_ITERATIONS: u32 = 1_000_000;
/// scrypt work allowed in an encrypted PKCS#8 key, 128·N·r·p bytes: 64 MiB (OpenSSL's default
/// `-scrypt` is N = 16384, r = 8, p = 1: 16 MiB; OpenSSL itself refuses more than 32 MiB of
/// memory unless told otherwise).
const MAX_SCRYPT_BYTES: u64 = 64 << 20;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");

/// Reads a whole file's bytes.
pub(super) fn read(
    bytes: &[u8],
    password: Option<&SecretString>,
    format: Format,
) -> Result<KeyPair, String> {
    if format == Format::Pkcs12 {
        return match as_pkcs12(bytes) {
            Some(der) => from_pkcs12(&der, password),
            None if looks_like_pem(bytes) => Err(
                "named like a PFX (.pfx/.p12) but holds PEM text; rename it to .pem".to_string(),
            ),
            None => Err(NOT_PFX.into()),
        };
    }
    if looks_like_pem(bytes) {
        let blocks = parse_pem(bytes)?;
        return from_pem_blocks(&blocks, password);
    }
    if x509_parser::parse_x509_certificate(bytes).is_ok() {
        return Err(LONE_CERT.into());
    }
    match as_pkcs12(bytes) {
        Some(der) => from_pkcs12(&der, password),
        None => Err(
            "neither PEM (BEGIN CERTIFICATE / PRIVATE KEY) nor a PKCS#12/PFX file; give a PEM \
             file with the certificate and its key, or the PFX"
                .into(),
        ),
    }
}

const NOT_PFX_EXPORT: &str =
    "Export-PfxCertificate, or `openssl pkcs12 -export -inkey app.key -in app.crt -out app.pfx`";
const NOT_PFX: &str = "not a PKCS#12/PFX file (damaged, or another format); export it again \
     (Export-PfxCertificate, or `openssl pkcs12 -export -inkey app.key -in app.crt -out app.pfx`)";
const UNSUPPORTED_PFX: &str = "the PFX uses an encryption or integrity algorithm this tool does \
     not read (such as RC4, MD5-based encryption or a PBMAC1 check); export it again with AES \
     (Export-PfxCertificate -CryptoAlgorithmOption AES256_SHA256, or `openssl pkcs12 -export`)";
const LONE_CERT: &str = "holds only a certificate (DER, as a .cer file); the tool needs the \
     private key too: give the PFX exported with its private key, or a PEM file with both";

/// PEM text: a `-----BEGIN ` line near the start (a byte order mark or blank lines may come
/// first).
fn looks_like_pem(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    head.windows(11).any(|w| w == b"-----BEGIN ")
}

pub(super) fn parse_pem(bytes: &[u8]) -> Result<Vec<pem::Pem>, String> {
    pem::parse_many(bytes).map_err(|e| format!("not PEM: {e}"))
}

/// The DER of a PKCS#12 file: the bytes themselves when they start as DER does, or base64
/// text decoding to that (an Azure Key Vault certificate's secret value is the PFX in base64).
fn as_pkcs12(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.first() == Some(&0x30) {
        return Some(bytes.to_vec());
    }
    let text: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if text.is_empty() {
        return None;
    }
    let der = STANDARD.decode(&text).ok()?;
    (der.first() == Some(&0x30)).then_some(der)
}

/// A PKCS#12 / PFX file. Without a password the empty one is tried (an exported PFX "without
/// password" and Key Vault's PFX use it).
fn from_pkcs12(der: &[u8], password: Option<&SecretString>) -> Result<KeyPair, String> {
    let archive = Pkcs12Archive::from_pkcs12(der, password.map_or("", |p| p.expose_secret()))
        .map_err(|e| pkcs12_error(&e, password.is_some()))?;
    if archive.certs.is_empty() {
        return Err("the PFX holds no certificate; export it again with its certificate".into());
    }
    if archive.keys.is_empty() {
        return Err(
            "the PFX holds no private key: it was exported without it; export it again with \
             the private key (certmgr: \"Yes, export the private key\"; Export-PfxCertificate \
             on the certificate in Cert:\\CurrentUser\\My that has its key)"
                .into(),
        );
    }
    let certs: Vec<&[u8]> = archive.certs.iter().map(|c| c.cert.as_der()).collect();
    let mut refused = None;
    for bag in &archive.keys {
        match rsa_key(bag.key.as_der()) {
            Ok(key) => return pair_with(key, &certs, "the PFX"),
            Err(e) => refused = Some(e),
        }
    }
    Err(refused.unwrap_or_else(|| "the PFX holds no usable private key".into()))
}

fn pkcs12_error(e: &P12Error, had_password: bool) -> String {
    match e {
        // pkcs5's own words (p12-keystore keeps only the text): an algorithm it lacks, or
        // parameters it cannot use, are no password matter.
        P12Error::Pkcs5Error(m) if m.contains("unsupported") => UNSUPPORTED_PFX.into(),
        P12Error::Pkcs5Error(m) if m.contains("invalid") => format!(
            "the PFX's encryption parameters are invalid; export it again ({NOT_PFX_EXPORT})"
        ),
        // The MAC (checked first) or, in a file without one, the decryption failed: the
        // password is not the file's.
        P12Error::MacError(_) | P12Error::UnpadError | P12Error::Pkcs5Error(_) => {
            if had_password {
                format!("the password in {PASSWORD_VAR} does not open this PFX")
            } else {
                format!("the PFX is protected by a password: set {PASSWORD_VAR}")
            }
        }
        P12Error::UnsupportedEncryptionScheme | P12Error::UnsupportedMacAlgorithm => {
            UNSUPPORTED_PFX.into()
        }
        P12Error::InvalidParameters => format!(
            "the PFX's encryption parameters are invalid or beyond the limits this tool accepts \
             (at most {MAX_KDF_ITERATIONS} iterations); export it again"
        ),
        P12Error::UnsupportedCertificateType => {
            "the PFX holds a certificate that is not X.509".into()
        }
        P12Error::InvalidPrivateKey => "the PFX's private key is damaged".into(),
        P12Error::DerError(der) => format!("{NOT_PFX} ({der})"),
        _ => NOT_PFX.into(),
    }
}

/// PEM blocks: the certificate(s) and one key (`PRIVATE KEY`, `RSA PRIVATE KEY`, or `ENCRYPTED
/// PRIVATE KEY` opened with the password).
pub(super) fn from_pem_blocks(
    blocks: &[pem::Pem],
    password: Option<&SecretString>,
) -> Result<KeyPair, String> {
    let certs: Vec<&[u8]> = blocks
        .iter()
        .filter(|b| matches!(b.tag(), "CERTIFICATE" | "X509 CERTIFICATE"))
        .map(|b| b.contents())
        .collect();
    let key = blocks.iter().find(|b| is_key(b)).ok_or(
        "no private key (PRIVATE KEY, ENCRYPTED PRIVATE KEY or RSA PRIVATE KEY block): put the \
         key in the same file or in a .key file beside it",
    )?;
    let key = match key.tag() {
        "EC PRIVATE KEY" => return Err(not_rsa("EC (elliptic curve)")),
        "DSA PRIVATE KEY" => return Err(not_rsa("DSA")),
        "OPENSSH PRIVATE KEY" => {
            return Err(
                "an OpenSSH private key; Entra certificate credentials need an X.509 \
                 certificate and its RSA key (PEM or PFX)"
                    .into(),
            );
        }
        "RSA PRIVATE KEY" if is_traditionally_encrypted(key) => {
            return Err(format!(
                "the RSA private key uses OpenSSL's old encryption (Proc-Type: 4,ENCRYPTED), \
                 which this tool does not read; convert it to encrypted PKCS#8 with \
                 `openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.key -out new.key` and put the \
                 password in {PASSWORD_VAR}"
            ));
        }
        "RSA PRIVATE KEY" => rsa_pkcs1(key.contents())?,
        "ENCRYPTED PRIVATE KEY" => {
            let der = decrypt_pkcs8(key.contents(), password)?;
            rsa_key(&der)?
        }
        _ => rsa_key(key.contents())?,
    };
    if certs.is_empty() {
        return Err(
            "no CERTIFICATE block: put the certificate in the same file as the key, or \
                    the key in a .key file beside the certificate"
                .into(),
        );
    }
    pair_with(key, &certs, "the file")
}

pub(super) fn is_key(b: &pem::Pem) -> bool {
    b.tag().ends_with("PRIVATE KEY")
}

fn is_traditionally_encrypted(b: &pem::Pem) -> bool {
    b.headers()
        .get("Proc-Type")
        .is_some_and(|v| v.contains("ENCRYPTED"))
}

/// An `ENCRYPTED PRIVATE KEY` (PKCS#8 `EncryptedPrivateKeyInfo`, PBES2) opened with the
/// password; the PKCS#8 `PrivateKeyInfo` DER inside.
fn decrypt_pkcs8(der: &[u8], password: Option<&SecretString>) -> Result<Vec<u8>, String> {
    let Some(password) = password else {
        return Err(format!(
            "the private key is encrypted: set {PASSWORD_VAR} to its password"
        ));
    };
    let old_scheme = || {
        format!(
            "the private key is encrypted with PKCS#5 v1.5 / PKCS#12 PBE, which this tool does \
             not read; convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.key -out \
             new.key` (the password stays in {PASSWORD_VAR})"
        )
    };
    let info = match pkcs8::EncryptedPrivateKeyInfoRef::from_der(der) {
        Ok(info) => info,
        Err(_) if encryption_oid(der).is_some_and(|oid| is_pbes1(&oid)) => {
            return Err(old_scheme());
        }
        Err(e) => return Err(format!("the encrypted private key is damaged ({e})")),
    };
    let pkcs8::pkcs5::EncryptionScheme::Pbes2(params) = &info.encryption_algorithm else {
        return Err(old_scheme());
    };
    match &params.kdf {
        pbes2::Kdf::Pbkdf2(p) if p.iteration_count > MAX_KDF_ITERATIONS => {
            return Err(format!(
                "the private key's encryption asks for {} PBKDF2 iterations, more than the {} \
                 this tool accepts",
                p.iteration_count, MAX_KDF_ITERATIONS
            ));
        }
        pbes2::Kdf::Scrypt(s) if !scrypt_within_limits(s) => {
            return Err(
                "the private key's scrypt parameters ask for more work than this tool \
                 accepts (128·N·r·p above 64 MiB); encrypt it again with \
                 `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                    .into(),
            );
        }
        _ => {}
    }
    let secret = info
        .decrypt(password.expose_secret())
        .map_err(|e| match e {
            pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::UnsupportedAlgorithm {
                ..
            }) => {
                "the private key is encrypted with an algorithm this tool does not read; convert \
             it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                    .to_string()
            }
            // A wrong key leaves bad padding or, rarely, garbage that does not decode.
            _ => format!("the password in {PASSWORD_VAR} does not open the private key"),
        })?;
    Ok(secret.as_bytes().to_vec())
}

/// The algorithm of an `EncryptedPrivateKeyInfo` whose parameters pkcs5 does not decode.
fn encryption_oid(der: &[u8]) -> Option<ObjectIdentifier> {
    let outer = pkcs8::der::AnyRef::from_der(der).ok()?;
    let mut reader = pkcs8::der::SliceReader::new(outer.value()).ok()?;
    Some(pkcs8::AlgorithmIdentifierRef::decode(&mut reader).ok()?.oid)
}

/// PKCS#12 PBE (1.2.840.113549.1.12.1.*) or PKCS#5 v1.5 PBES1 (1.2.840.113549.1.5.1–11).
fn is_pbes1(oid: &ObjectIdentifier) -> bool {
    let s = oid.to_string();
    s.starts_with("1.2.840.113549.1.12.1.")
        || s.strip_prefix("1.2.840.113549.1.5.")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n <= 11)
}

fn scrypt_within_limits(s: &pbes2::ScryptParams) -> bool {
    128u64
        .checked_mul(s.cost_parameter)
        .and_then(|m| m.checked_mul(u64::from(s.block_size)))
        .and_then(|m| m.checked_mul(u64::from(s.parallelization)))
        .is_some_and(|m| m <= MAX_SCRYPT_BYTES)
}

/// An RSA key's PKCS#1 DER and its public half.
struct RsaKey {
    pkcs1: Vec<u8>,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
}

/// A PKCS#8 `PrivateKeyInfo`: RSA, or refused with its type named.
fn rsa_key(pkcs8_der: &[u8]) -> Result<RsaKey, String> {
    let info = pkcs8::PrivateKeyInfoRef::try_from(pkcs8_der)
        .map_err(|e| format!("the private key is damaged (not PKCS#8: {e})"))?;
    let oid = info.algorithm.oid;
    if oid == RSA_ENCRYPTION || oid == RSASSA_PSS {
        return rsa_pkcs1(info.private_key.as_bytes());
    }
    Err(not_rsa(if oid == EC_PUBLIC_KEY {
        "EC (elliptic curve)"
    } else if oid == ED25519 {
        "Ed25519"
    } else if oid == ED448 {
        "Ed448"
    } else if oid == DSA {
        "DSA"
    } else {
        "of an unknown type"
    }))
}

/// A PKCS#1 `RSAPrivateKey`, within the sizes the signer takes.
fn rsa_pkcs1(der: &[u8]) -> Result<RsaKey, String> {
    let key = pkcs1::RsaPrivateKeyRef::try_from(der)
        .map_err(|e| format!("the RSA private key is damaged ({e})"))?;
    let modulus = strip_zeros(key.modulus.as_bytes()).to_vec();
    let bits = significant_bits(&modulus);
    if !(2048..=8192).contains(&bits) {
        return Err(format!(
            "the RSA key has {bits} bits; use an RSA key of 2048 to 8192 bits (2048 is what \
             Entra recommends)"
        ));
    }
    Ok(RsaKey {
        pkcs1: der.to_vec(),
        exponent: strip_zeros(key.public_exponent.as_bytes()).to_vec(),
        modulus,
    })
}

fn not_rsa(kind: &str) -> String {
    format!(
        "the private key is {kind}, not RSA; Entra certificate credentials need an RSA key \
         (2048 bits or more). Create one with `New-SelfSignedCertificate -KeyAlgorithm RSA \
         -KeyLength 2048 …` or `openssl req -x509 -newkey rsa:2048 …`"
    )
}

/// The certificate whose public key is `key`'s, among `certs` (a PFX or PEM may carry its CA
/// chain and other certificates, in any order).
fn pair_with(key: RsaKey, certs: &[&[u8]], what: &str) -> Result<KeyPair, String> {
    let mut readable = 0;
    for der in certs {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
            continue;
        };
        readable += 1;
        if let Ok(x509_parser::public_key::PublicKey::RSA(public)) = cert.public_key().parsed()
            && strip_zeros(public.modulus) == key.modulus.as_slice()
            && strip_zeros(public.exponent) == key.exponent.as_slice()
        {
            return Ok(KeyPair {
                cert_der: der.to_vec(),
                rsa_pkcs1: key.pkcs1,
            });
        }
    }
    if readable == 0 {
        return Err(format!("{what} holds no readable X.509 certificate"));
    }
    Err(format!(
        "no certificate in {what} belongs to its private key (their public keys differ); put \
         the app's certificate with its own key"
    ))
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[start..]
}

fn significant_bits(be: &[u8]) -> usize {
    match be.first() {
        Some(&top) => (be.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
    }
}

#[cfg(test)]
mod tests;
