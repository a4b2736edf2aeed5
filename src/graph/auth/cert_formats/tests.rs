//! The formats against files OpenSSL made (tests/fixtures/certs, see its README) and files made
//! here at run time.

use super::*;
use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
use pkcs8::der::Encode;
use pkcs8::der::asn1::OctetStringRef;
use proptest::prelude::*;
use sha2::Digest;

/// The fixtures' password (test-only).
const PASSWORD: &str = "test-only-Pfx-9";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/certs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The DER of the first certificate in a PEM fixture.
fn cert_der(name: &str) -> Vec<u8> {
    pem::parse(fixture(name)).unwrap().into_contents()
}

fn pw(p: &str) -> SecretString {
    SecretString::from(p.to_string())
}

fn read_ok(bytes: &[u8], password: Option<&str>) -> KeyPair {
    let password = password.map(pw);
    match read(bytes, password.as_ref(), Format::Detect) {
        Ok(pair) => pair,
        Err(e) => panic!("{e}"),
    }
}

fn read_err(bytes: &[u8], password: Option<&str>, format: Format) -> String {
    let password = password.map(pw);
    match read(bytes, password.as_ref(), format) {
        Ok(_) => panic!("read a file it should refuse"),
        Err(e) => {
            if let Some(p) = &password {
                assert!(!e.contains(p.expose_secret()), "{e}");
            }
            e
        }
    }
}

fn sha256(b: &[u8]) -> Vec<u8> {
    sha2::Sha256::digest(b).to_vec()
}

/// The RSA key of app.key as PKCS#1, to compare with what a PFX gave.
fn app_key_pkcs1() -> Vec<u8> {
    let der = pem::parse(fixture("app.key")).unwrap().into_contents();
    let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_slice()).unwrap();
    info.private_key.as_bytes().to_vec()
}

#[test]
fn openssl_pfx_in_every_encryption_opens() {
    let app = cert_der("app.crt");
    for name in ["app-aes.pfx", "app-legacy.pfx", "app-3des.pfx"] {
        let pair = read_ok(&fixture(name), Some(PASSWORD));
        assert_eq!(sha256(&pair.cert_der), sha256(&app), "{name}");
        assert_eq!(pair.rsa_pkcs1, app_key_pkcs1(), "{name}");
        // The extension decides nothing for these: as .pfx they read the same.
        let password = pw(PASSWORD);
        assert!(read(&fixture(name), Some(&password), Format::Pkcs12).is_ok());
    }
}

#[test]
fn pfx_with_an_empty_password_opens_without_one() {
    let pair = read_ok(&fixture("app-nopass.pfx"), None);
    assert_eq!(pair.cert_der, cert_der("app.crt"));
    // A password set for a file that has none does not open it, and says which variable.
    let e = read_err(&fixture("app-nopass.pfx"), Some("stale"), Format::Detect);
    assert!(
        e.contains("AZURE_CLIENT_CERTIFICATE_PASSWORD does not open"),
        "{e}"
    );
}

#[test]
fn wrong_or_missing_pfx_password_is_explained_without_the_password() {
    for name in ["app-aes.pfx", "app-legacy.pfx", "app-3des.pfx"] {
        let e = read_err(&fixture(name), Some("Wrong-Pass-1"), Format::Detect);
        assert_eq!(
            e, "the password in AZURE_CLIENT_CERTIFICATE_PASSWORD does not open this PFX",
            "{name}"
        );
        let e = read_err(&fixture(name), None, Format::Detect);
        assert_eq!(
            e, "the PFX is protected by a password: set AZURE_CLIENT_CERTIFICATE_PASSWORD",
            "{name}"
        );
    }
}

#[test]
fn pfx_with_its_chain_gives_the_certificate_of_the_key() {
    // app-chain.pfx: the certificate issued for app.key, its CA, and an unrelated certificate.
    let pair = read_ok(&fixture("app-chain.pfx"), Some(PASSWORD));
    assert_eq!(pair.cert_der, cert_der("issued.crt"));
}

/// A PFX made here: `certs` in this order, under `password`.
fn write_pfx(
    key_pkcs8: &[u8],
    certs: &[&[u8]],
    password: &str,
    algorithm: p12_keystore::EncryptionAlgorithm,
) -> Vec<u8> {
    let chain = PrivateKeyChain::new(
        b"not-the-thumbprint".as_slice(),
        PrivateKey::from_der(key_pkcs8).unwrap(),
        certs.iter().map(|c| Certificate::from_der(c).unwrap()),
    );
    let mut store = KeyStore::new();
    store.add_entry("app", KeyStoreEntry::PrivateKeyChain(chain));
    store
        .writer(password)
        .encryption_algorithm(algorithm)
        .encryption_iterations(256)
        .mac_iterations(256)
        .write()
        .unwrap()
}

fn rsa_self_signed(name: &str) -> (Vec<u8>, Vec<u8>) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec![name.into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.der().to_vec(), key.serialize_der())
}

#[test]
fn pfx_with_two_certificates_picks_the_one_of_the_key() {
    let (app_cert, app_key) = rsa_self_signed("app");
    let (other_cert, _) = rsa_self_signed("other");
    for algorithm in [
        p12_keystore::EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
        p12_keystore::EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
    ] {
        // The unrelated certificate first: order and attributes decide nothing.
        let pfx = write_pfx(
            &app_key,
            &[&other_cert, &app_cert],
            "Made-Here-7",
            algorithm,
        );
        let pair = read_ok(&pfx, Some("Made-Here-7"));
        assert_eq!(pair.cert_der, app_cert);
        // Only the unrelated certificate: refused, not signed with a certificate Entra
        // would reject.
        let pfx = write_pfx(&app_key, &[&other_cert], "Made-Here-7", algorithm);
        let e = read_err(&pfx, Some("Made-Here-7"), Format::Pkcs12);
        assert!(
            e.contains("no certificate in the PFX belongs to its private key"),
            "{e}"
        );
    }
}

#[test]
fn pfx_in_base64_as_key_vault_gives_it_opens() {
    let text = STANDARD.encode(fixture("app-nopass.pfx"));
    // Wrapped at 64 columns with a trailing newline, as a download may be.
    let wrapped: String = text
        .as_bytes()
        .chunks(64)
        .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
        .collect();
    for t in [text, wrapped] {
        assert_eq!(read_ok(t.as_bytes(), None).cert_der, cert_der("app.crt"));
    }
}

#[test]
fn pfx_without_key_or_with_an_ec_key_is_explained() {
    let e = read_err(&fixture("cert-only.pfx"), Some(PASSWORD), Format::Detect);
    assert!(e.starts_with("the PFX holds no private key"), "{e}");
    let e = read_err(&fixture("ec.pfx"), Some(PASSWORD), Format::Detect);
    assert!(e.contains("EC (elliptic curve), not RSA"), "{e}");
    assert!(e.contains("-KeyAlgorithm RSA"), "{e}");
}

#[test]
fn damaged_or_foreign_files_are_named_as_such() {
    let mut pfx = fixture("app-aes.pfx");
    pfx.truncate(pfx.len() / 2);
    let e = read_err(&pfx, Some(PASSWORD), Format::Detect);
    assert!(e.starts_with("not a PKCS#12/PFX file"), "{e}");
    let e = read_err(&fixture("app-rc4.pfx"), Some(PASSWORD), Format::Detect);
    assert!(e.contains("does not read (such as RC4"), "{e}");
    assert!(e.contains("AES256_SHA256"), "{e}");
    let e = read_err(b"hello world", None, Format::Detect);
    assert!(e.starts_with("neither PEM"), "{e}");
    let e = read_err(b"hello world", None, Format::Pkcs12);
    assert!(e.starts_with("not a PKCS#12/PFX file"), "{e}");
    let e = read_err(&fixture("app.crt"), None, Format::Pkcs12);
    assert!(e.contains("rename it to .pem"), "{e}");
    // A .cer (DER certificate) alone.
    let e = read_err(&cert_der("app.crt"), None, Format::Detect);
    assert!(e.contains("only a certificate"), "{e}");
    let e = read_err(b"", None, Format::Detect);
    assert!(e.starts_with("neither PEM"), "{e}");
}

fn pem_with(cert: &str, key: &str) -> Vec<u8> {
    let mut v = fixture(cert);
    v.extend(fixture(key));
    v
}

#[test]
fn encrypted_pkcs8_opens_with_the_password_only() {
    for key in ["app-enc.key", "app-enc-sha1.key", "app-enc-scrypt.key"] {
        let pem = pem_with("app.crt", key);
        let pair = read_ok(&pem, Some(PASSWORD));
        assert_eq!(pair.rsa_pkcs1, app_key_pkcs1(), "{key}");
        let e = read_err(&pem, Some("Wrong-Pass-1"), Format::Detect);
        assert_eq!(
            e, "the password in AZURE_CLIENT_CERTIFICATE_PASSWORD does not open the private key",
            "{key}"
        );
        let e = read_err(&pem, None, Format::Detect);
        assert!(
            e.contains("encrypted: set AZURE_CLIENT_CERTIFICATE_PASSWORD"),
            "{key}: {e}"
        );
    }
}

/// An `ENCRYPTED PRIVATE KEY` PEM made here (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC).
fn encrypt_pkcs8(key_pkcs8: &[u8], password: &str, iterations: u32) -> String {
    let params =
        pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, &[7u8; 16], [9u8; 16])
            .unwrap();
    let data = if iterations > MAX_KDF_ITERATIONS {
        // Never decrypted: the cap refuses it first (and encrypting would take long).
        vec![0u8; 64]
    } else {
        params.encrypt(password, key_pkcs8).unwrap()
    };
    let info = pkcs8::EncryptedPrivateKeyInfo {
        encryption_algorithm: params.into(),
        encrypted_data: OctetStringRef::new(&data).unwrap(),
    };
    pem::encode(&pem::Pem::new(
        "ENCRYPTED PRIVATE KEY",
        info.to_der().unwrap(),
    ))
}

#[test]
fn encrypted_pkcs8_made_here_opens_and_huge_iteration_counts_are_refused() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["app".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let enc = encrypt_pkcs8(&key.serialize_der(), "Made-Here-7", 2048);
    // Key first, certificate second.
    let pem = format!("{enc}{}", cert.pem());
    assert_eq!(
        read_ok(pem.as_bytes(), Some("Made-Here-7")).cert_der,
        cert.der().to_vec()
    );
    let e = read_err(pem.as_bytes(), Some("made-here-7"), Format::Detect);
    assert!(e.contains("does not open the private key"), "{e}");

    let enc = encrypt_pkcs8(&key.serialize_der(), "x", 50_000_000);
    let pem = format!("{}{enc}", cert.pem());
    let started = std::time::Instant::now();
    let e = read_err(pem.as_bytes(), Some("x"), Format::Detect);
    assert!(e.contains("50000000 PBKDF2 iterations"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn scrypt_beyond_64_mib_is_refused_before_it_runs() {
    let params = pkcs8::pkcs5::scrypt::Params::new(20, 8, 1).unwrap(); // N = 2^20: 1 GiB
    let params =
        pbes2::Parameters::generate_scrypt_aes256cbc(params, &[1u8; 16], [2u8; 16]).unwrap();
    let data = [0u8; 64];
    let info = pkcs8::EncryptedPrivateKeyInfo {
        encryption_algorithm: params.into(),
        encrypted_data: OctetStringRef::new(&data).unwrap(),
    };
    let key = pem::encode(&pem::Pem::new(
        "ENCRYPTED PRIVATE KEY",
        info.to_der().unwrap(),
    ));
    let mut pem = fixture("app.crt");
    pem.extend(key.as_bytes());
    let started = std::time::Instant::now();
    let e = read_err(&pem, Some("x"), Format::Detect);
    assert!(e.contains("above 64 MiB"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn old_key_encryptions_say_how_to_convert() {
    let e = read_err(
        &pem_with("app.crt", "app-traditional.key"),
        Some(PASSWORD),
        Format::Detect,
    );
    assert!(e.contains("Proc-Type: 4,ENCRYPTED"), "{e}");
    assert!(e.contains("openssl pkcs8 -topk8 -v2 aes-256-cbc"), "{e}");
    let e = read_err(
        &pem_with("app.crt", "app-enc-v1.key"),
        Some(PASSWORD),
        Format::Detect,
    );
    assert!(e.contains("PKCS#12 PBE"), "{e}");
    assert!(e.contains("openssl pkcs8 -topk8 -v2 aes-256-cbc"), "{e}");
}

#[test]
fn pem_keys_that_are_not_rsa_are_refused_with_the_way_out() {
    let e = read_err(&pem_with("ec.crt", "ec.key"), None, Format::Detect);
    assert!(e.contains("EC (elliptic curve), not RSA"), "{e}");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["ed".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let pem = format!("{}{}", cert.pem(), key.serialize_pem());
    let e = read_err(pem.as_bytes(), None, Format::Detect);
    assert!(e.contains("Ed25519, not RSA"), "{e}");
    assert!(e.contains("openssl req -x509 -newkey rsa:2048"), "{e}");
}

#[test]
fn pem_chain_gives_the_certificate_of_the_key_and_a_stranger_is_refused() {
    // CA first, then the issued certificate, then the key: the issued one is chosen.
    let mut pem = fixture("ca.crt");
    pem.extend(fixture("issued.crt"));
    pem.extend(fixture("app.key"));
    assert_eq!(read_ok(&pem, None).cert_der, cert_der("issued.crt"));
    let e = read_err(&pem_with("other.crt", "app.key"), None, Format::Detect);
    assert!(
        e.contains("no certificate in the file belongs to its private key"),
        "{e}"
    );
    // A traditional (PKCS#1) unencrypted key reads too.
    let pkcs1 = pem::encode(&pem::Pem::new("RSA PRIVATE KEY", app_key_pkcs1()));
    let mut pem = fixture("app.crt");
    pem.extend(pkcs1.as_bytes());
    assert_eq!(read_ok(&pem, None).rsa_pkcs1, app_key_pkcs1());
}

#[test]
fn bit_counts() {
    assert_eq!(significant_bits(&[]), 0);
    assert_eq!(significant_bits(&[1]), 1);
    assert_eq!(significant_bits(&[0x80, 0]), 16);
    assert_eq!(strip_zeros(&[0, 0, 5]), &[5]);
    assert_eq!(strip_zeros(&[0, 0]), &[] as &[u8]);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        with_password in any::<bool>(),
    ) {
        let password = with_password.then(|| pw("p"));
        for format in [Format::Detect, Format::Pkcs12] {
            let _ = read(&bytes, password.as_ref(), format);
        }
        let _ = pkcs8_from_random(&bytes, password.as_ref());
    }
}

/// Random bytes as the body of an `ENCRYPTED PRIVATE KEY` and a `PRIVATE KEY` block.
fn pkcs8_from_random(bytes: &[u8], password: Option<&SecretString>) -> Result<(), String> {
    for tag in ["ENCRYPTED PRIVATE KEY", "PRIVATE KEY", "RSA PRIVATE KEY"] {
        let block = pem::Pem::new(tag, bytes.to_vec());
        let cert = pem::Pem::new("CERTIFICATE", bytes.to_vec());
        let _ = from_pem_blocks(&[cert, block], password);
    }
    Ok(())
}

proptest! {
    // Each case may run the key derivations of a real file: few cases.
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn damaged_real_files_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let name = ["app-aes.pfx", "app-3des.pfx", "app-legacy.pfx", "app-enc.key"][which];
        let mut bytes = fixture(name);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if name.ends_with(".key") {
            bytes.extend(fixture("app.crt"));
        }
        let password = pw(PASSWORD);
        let _ = read(&bytes, Some(&password), Format::Detect);
    }
}
