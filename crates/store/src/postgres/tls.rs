//! TLS for PostgreSQL targets: libpq's `sslmode` and `sslrootcert` URL parameters, read from
//! the `--db` URL and turned into a rustls connector (tokio-postgres knows only disable, prefer
//! and require, and verifies nothing itself).
//!
//! | `sslmode` | encrypted | server certificate checked |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default, as libpq's) | when the server offers TLS | no — or as `verify-ca` when `sslrootcert=FILE` is given |
//! | `require` | always (refused otherwise) | no — or as `verify-ca` when `sslrootcert=FILE` is given, as libpq does |
//! | `verify-ca` | always | signed by a trusted CA |
//! | `verify-full` | always | signed by a trusted CA and valid for the URL's host name |
//!
//! Trusted CAs are those of `sslrootcert=FILE` (PEM), else the system's. `sslrootcert=system`
//! without `sslmode` means `verify-full`; with a weaker mode it is refused (libpq 16).

use crate::StoreError;
use postgres::config::SslMode as WireMode;
use postgres::{Client, Config, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How a connection is protected (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// libpq's TLS parameters that Ferry does not support: refused by name rather than reported
/// as unknown options.
const UNSUPPORTED: [&str; 8] = [
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
];

/// The TLS side of a target's URL, ready to connect.
#[derive(Clone)]
pub struct Tls {
    pub mode: SslMode,
    /// Where the trusted CAs come from (`None`: nothing is verified).
    pub roots: Option<Roots>,
    connector: Option<MakeRustlsConnect>,
}

/// The CAs a verifying connection trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    System,
    File(PathBuf),
}

/// Reads a target URL: the driver's configuration (without the TLS parameters, which it does
/// not know) and the TLS to connect with.
pub fn config(url: &str) -> Result<(Config, Tls), StoreError> {
    let shown = super::url::shown(url);
    let bad = |m: String| StoreError::CannotOpen(format!("{shown}: {m}"));
    let (rest, mode, root_file) = split(url).map_err(|e| bad(e.to_string()))?;
    let mut config = Config::from_str(&rest).map_err(|e| bad(super::error::describe(&e)))?;
    let mode = effective_mode(mode, root_file.as_deref()).map_err(|e| bad(e.to_string()))?;
    let roots = match (mode, root_file) {
        (SslMode::VerifyCa | SslMode::VerifyFull, Some(f)) if f != "system" => {
            Some(Roots::File(PathBuf::from(f)))
        }
        (SslMode::VerifyCa | SslMode::VerifyFull, _) => Some(Roots::System),
        _ => None,
    };
    config.ssl_mode(match mode {
        SslMode::Disable => WireMode::Disable,
        SslMode::Prefer => WireMode::Prefer,
        _ => WireMode::Require,
    });
    let connector = match mode {
        SslMode::Disable => None,
        _ => Some(MakeRustlsConnect::new(client_config(
            roots.as_ref(),
            mode == SslMode::VerifyFull,
        )?)),
    };
    Ok((
        config,
        Tls {
            mode,
            roots,
            connector,
        },
    ))
}

/// Why a URL's TLS parameters are refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum UrlError {
    #[error("sslrootcert=system needs sslmode=verify-full (or no sslmode), not sslmode={0}")]
    SystemRootsNeedVerifyFull(String),
    #[error("{0}: not UTF-8 once decoded")]
    NotUtf8(String),
    #[error("sslmode={0} is not one of disable, prefer, require, verify-ca, verify-full")]
    UnknownMode(String),
    #[error("{0} is not supported (Ferry does TLS with sslmode and sslrootcert only; client certificates are not supported)")]
    Unsupported(String),
}

/// The mode a URL asks for, given its `sslrootcert`. Naming CAs means "check the server":
/// - `sslrootcert=system` without `sslmode` is `verify-full`, and with a weaker mode is refused
///   (as libpq 16 does);
/// - `sslrootcert=FILE` with `require`, `prefer` or no `sslmode` is `verify-ca` (libpq verifies
///   the chain whenever the file exists; Ferry also refuses to fall back to plain text then).
/// - `disable` stays `disable`: the user said so.
fn effective_mode(mode: Option<SslMode>, root: Option<&str>) -> Result<SslMode, UrlError> {
    Ok(match (mode, root) {
        (None, Some("system")) => SslMode::VerifyFull,
        (Some(m @ (SslMode::Prefer | SslMode::Require | SslMode::VerifyCa)), Some("system")) => {
            return Err(UrlError::SystemRootsNeedVerifyFull(m.as_str().to_string()))
        }
        (None | Some(SslMode::Prefer | SslMode::Require), Some(_)) => SslMode::VerifyCa,
        (m, _) => m.unwrap_or(SslMode::Prefer),
    })
}

/// The URL without `sslmode` and `sslrootcert`, and their values (`sslrootcert` decoded).
fn split(url: &str) -> Result<(String, Option<SslMode>, Option<String>), UrlError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), None, None));
    };
    let (mut mode, mut root, mut kept) = (None, None, vec![]);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = || {
            percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| UrlError::NotUtf8(k.to_string()))
        };
        match k {
            "sslmode" => {
                mode = Some(
                    SslMode::parse(&value()?)
                        .ok_or_else(|| UrlError::UnknownMode(v.to_string()))?,
                )
            }
            "sslrootcert" => root = Some(value()?),
            _ if UNSUPPORTED.contains(&k) => return Err(UrlError::Unsupported(k.to_string())),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, mode, root))
}

/// The rustls configuration of a mode: which CAs, whether the host name is checked.
fn client_config(
    roots: Option<&Roots>,
    check_name: bool,
) -> Result<rustls::ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = roots.map(load_roots).transpose()?.map(Arc::new);
    let verifier = Arc::new(Verifier {
        provider: provider.clone(),
        roots,
        check_name,
    });
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Other(format!("TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The trusted CAs: a PEM file's certificates, or the system's.
fn load_roots(roots: &Roots) -> Result<RootCertStore, StoreError> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            let certs = read_pem_certs(path)?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StoreError::CannotOpen(format!(
                    "sslrootcert={}: no usable CA certificate in it",
                    path.display()
                )));
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(StoreError::CannotOpen(
                    "sslmode verify-ca/verify-full: this system has no trusted CA certificates; give the server's CA with sslrootcert=FILE".into(),
                ));
            }
        }
    }
    Ok(store)
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, StoreError> {
    use rustls::pki_types::pem::PemObject;
    let cannot = |m: String| StoreError::CannotOpen(format!("sslrootcert={}: {m}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| cannot(e.to_string()))?;
    CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cannot(format!("not a PEM certificate file ({e})")))
}

impl Tls {
    /// Connects with this TLS.
    pub fn connect(&self, config: &Config) -> Result<Client, postgres::Error> {
        match &self.connector {
            None => config.connect(NoTls),
            Some(c) => config.connect(c.clone()),
        }
    }
}

/// Checks the server's certificate as the mode says: not at all (`prefer`, `require`), its
/// chain (`verify-ca`), or its chain and the host name (`verify-full`). The handshake's
/// signatures are always checked, so the session is bound to the certificate it was shown.
#[derive(Debug)]
struct Verifier {
    provider: Arc<CryptoProvider>,
    roots: Option<Arc<RootCertStore>>,
    check_name: bool,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        if self.check_name {
            rustls::client::verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A TLS failure of a connection, said plainly (`None`: not a TLS failure).
pub fn explain(e: &postgres::Error) -> Option<String> {
    use std::error::Error as _;
    let text = e.to_string();
    if !text.contains("TLS") {
        return None;
    }
    let inner = e.source();
    let rustls_error = inner
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .and_then(|io| io.get_ref())
        .and_then(|r| r.downcast_ref::<rustls::Error>());
    use rustls::CertificateError as C;
    let why = match rustls_error {
        Some(rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature)) => {
            "the server's certificate is not signed by a trusted CA (sslrootcert, or the system's CAs)".to_string()
        }
        Some(rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        )) => format!(
            "the server's certificate is not valid for the host name in the URL ({}); sslmode=verify-full checks it — connect by a name the certificate gives",
            rustls_error.map(|r| r.to_string()).unwrap_or_default()
        ),
        Some(rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. })) => {
            "the server's certificate has expired".to_string()
        }
        Some(other) => other.to_string(),
        None => match inner {
            Some(s) => s.to_string(),
            None => text.clone(),
        },
    };
    Some(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_parameters_are_taken_out_of_the_url() {
        let (rest, mode, root) =
            split("postgres://u:p@h/db?sslmode=verify-full&application_name=x&sslrootcert=%2Ftmp%2Fmy%20ca.pem")
                .unwrap();
        assert_eq!(rest, "postgres://u:p@h/db?application_name=x");
        assert_eq!(mode, Some(SslMode::VerifyFull));
        assert_eq!(root.as_deref(), Some("/tmp/my ca.pem"));
        let (rest, mode, root) = split("postgres://h/db").unwrap();
        assert_eq!((rest.as_str(), mode, root), ("postgres://h/db", None, None));
        assert!(split("postgres://h/db?sslmode=allow").is_err());
        assert!(split("postgres://h/db?sslcert=c.pem")
            .unwrap_err()
            .to_string()
            .contains("client certificates are not supported"));
    }

    #[test]
    fn modes_and_their_roots() {
        let (_, t) = config("postgres://h/db").unwrap();
        assert_eq!((t.mode, t.roots), (SslMode::Prefer, None));
        let (_, t) = config("postgres://h/db?sslmode=disable").unwrap();
        assert_eq!((t.mode, t.roots), (SslMode::Disable, None));
        let (_, t) = config("postgres://h/db?sslmode=require").unwrap();
        assert_eq!((t.mode, t.roots), (SslMode::Require, None));
        // A CA file that does not exist is refused when the URL is read, not at connect time.
        let e = config("postgres://h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        let e = config("postgres://h/db?sslmode=require&sslrootcert=/nonexistent/ca.pem")
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn naming_cas_means_checking_the_server() {
        use SslMode::*;
        let m = |mode, root| effective_mode(mode, root);
        assert_eq!(m(None, Some("/ca.pem")), Ok(VerifyCa));
        assert_eq!(m(Some(Prefer), Some("/ca.pem")), Ok(VerifyCa));
        assert_eq!(m(Some(Require), Some("/ca.pem")), Ok(VerifyCa));
        assert_eq!(m(Some(VerifyFull), Some("/ca.pem")), Ok(VerifyFull));
        assert_eq!(m(Some(Disable), Some("/ca.pem")), Ok(Disable));
        assert_eq!(m(None, Some("system")), Ok(VerifyFull));
        assert!(m(Some(Require), Some("system"))
            .unwrap_err()
            .to_string()
            .contains("verify-full"));
        assert!(m(Some(VerifyCa), Some("system")).is_err());
        assert_eq!(m(None, None), Ok(Prefer));
        assert_eq!(m(Some(Require), None), Ok(Require));
    }
}
