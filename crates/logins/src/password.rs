//! Password hashes: Ferry's Argon2id parameters, hashing, the legacy hash forms a source may
//! carry (recognised by their exact marker, validated, verified with their own algorithm), and
//! whether a stored hash should be upgraded to Ferry's Argon2id after a successful sign-in.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Argon2id memory cost in KiB (19 MiB), time cost (passes) and lanes. These are OWASP's first
/// recommended Argon2id setting (and the `argon2` crate's default): about 10 ms of one core per
/// hash on a current CPU. One lane, because the parallelism Ferry needs is across accounts (an
/// import hashes many passwords at once, one per core), not inside one hash; the memory cost is
/// what makes a GPU or ASIC attack expensive, and 19 MiB per hash keeps an import on 32 cores
/// under 1 GiB.
pub const ARGON2_M_KIB: u32 = 19_456;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

/// The stored "password" of a login that no password matches (an account that must reset).
pub const UNUSABLE: &str = "!";

/// Most characters a new password may have (hashing cost stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Fewest characters a password set through Ferry may have (the same as for the console's staff).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Bounds on a legacy hash's cost parameters, checked at import: a hash beyond them would make
/// every sign-in of that account take minutes or gigabytes (a denial of service waiting to
/// happen), so it is refused like a malformed one.
pub const MAX_ARGON2_M_KIB: u32 = 262_144;
pub const MAX_ARGON2_T: u32 = 16;
pub const MAX_ARGON2_P: u32 = 16;
pub const MAX_BCRYPT_COST: u32 = 16;
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// Ferry's Argon2id hasher.
pub fn argon2id() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None).expect("constant parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A password as Ferry stores it: its Argon2id hash with Ferry's parameters (PHC string).
pub fn hash(password: &str) -> Result<String, crate::LoginError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| crate::LoginError::Hash(e.to_string()))
}

/// The hash forms Ferry accepts from a source and verifies at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `$argon2id$…`, `$argon2i$…`, `$argon2d$…` (PHC strings; Django's `argon2$argon2id$…` too).
    Argon2,
    /// `$2a$`, `$2b$`, `$2y$` bcrypt (Django's `bcrypt$$2b$…` too).
    Bcrypt,
    /// Django's `bcrypt_sha256$$2b$…`: bcrypt of the hex SHA-256 of the password.
    BcryptSha256,
    /// Django's `pbkdf2_sha256$ITERATIONS$SALT$HASH`.
    DjangoPbkdf2Sha256,
    /// `$pbkdf2-sha256$…`: the PHC form (`i=N,l=32`) or passlib's (`$ROUNDS$SALT$HASH`).
    Pbkdf2Sha256,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Argon2 => "Argon2",
            Scheme::Bcrypt => "bcrypt",
            Scheme::BcryptSha256 => "Django bcrypt_sha256",
            Scheme::DjangoPbkdf2Sha256 => "Django pbkdf2_sha256",
            Scheme::Pbkdf2Sha256 => "PBKDF2-SHA256",
        }
    }
}

/// What a source's `Password` value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourcePassword {
    /// A password in clear: Ferry hashes it.
    Plain,
    /// A well-formed hash of a supported scheme: stored as given.
    Hash(Scheme),
}

/// Why a value that carries a hash scheme's marker cannot be stored. The messages never quote
/// the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the Password starts like a password hash ({scheme}) but is not a well-formed one ({why}); a damaged or cut hash cannot be stored")]
    Malformed { scheme: &'static str, why: String },
    #[error("the Password is a {0} hash, which Ferry cannot verify; leave the Password empty (the login then resets its password) or give the hash in a supported form")]
    Unsupported(&'static str),
}

/// Markers of hash schemes Ferry recognises but cannot verify (weak or rare): a value that
/// starts with one is refused rather than taken as a plain password.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("$1$", "MD5-crypt"),
    ("$apr1$", "Apache MD5"),
    ("$5$", "SHA-256-crypt"),
    ("$6$", "SHA-512-crypt"),
    ("$y$", "yescrypt"),
    ("$gy$", "gost-yescrypt"),
    ("$7$", "scrypt"),
    ("$scrypt$", "scrypt"),
    ("$P$", "phpass"),
    ("$H$", "phpass"),
    ("$2x$", "bcrypt $2x$ (a buggy variant)"),
    ("$2$", "bcrypt $2$ (obsolete)"),
    ("$pbkdf2$", "PBKDF2-SHA1"),
    ("$pbkdf2-sha1$", "PBKDF2-SHA1"),
    ("$pbkdf2-sha512$", "PBKDF2-SHA512"),
    ("$sha1$", "SHA-1 crypt"),
    ("$md5", "Sun MD5-crypt"),
    ("pbkdf2_sha1$", "Django pbkdf2_sha1"),
    ("sha1$", "Django sha1"),
    ("md5$", "Django md5"),
    ("unsalted_md5$", "Django unsalted md5"),
    ("unsalted_sha1$", "Django unsalted sha1"),
    ("crypt$", "Django crypt"),
    ("scrypt$", "Django scrypt"),
    ("{SSHA}", "LDAP SSHA"),
    ("{SHA}", "LDAP SHA"),
    ("{SSHA256}", "LDAP SSHA256"),
    ("{SSHA512}", "LDAP SSHA512"),
    ("{MD5}", "LDAP MD5"),
    ("{SMD5}", "LDAP SMD5"),
    ("{CRYPT}", "LDAP CRYPT"),
    ("{PBKDF2", "LDAP PBKDF2"),
];

/// Tells a hash from a plain password. A value is a hash claim exactly when it starts with a
/// scheme's marker (`$argon2id$`, `$2b$`, `pbkdf2_sha256$`, … — case-sensitive, as the schemes
/// write them; LDAP's `{SSHA}` in any case); it must then be well-formed for that scheme, within
/// the cost bounds above. Anything else is a plain password. So a plain password that merely
/// looks like a hash is refused instead of being stored as if it were one (or, worse, a damaged
/// hash becoming the password itself).
pub fn classify(value: &str) -> Result<SourcePassword, FormError> {
    if let Some(rest) = value.strip_prefix("argon2$") {
        return argon2_form(&format!("${rest}")).map(|_| SourcePassword::Hash(Scheme::Argon2));
    }
    if ["$argon2id$", "$argon2i$", "$argon2d$"]
        .iter()
        .any(|p| value.starts_with(p))
    {
        return argon2_form(value).map(|_| SourcePassword::Hash(Scheme::Argon2));
    }
    if let Some(rest) = value.strip_prefix("bcrypt_sha256$") {
        return bcrypt_form(rest).map(|_| SourcePassword::Hash(Scheme::BcryptSha256));
    }
    if let Some(rest) = value.strip_prefix("bcrypt$") {
        return bcrypt_form(rest).map(|_| SourcePassword::Hash(Scheme::Bcrypt));
    }
    if ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| value.starts_with(p))
    {
        return bcrypt_form(value).map(|_| SourcePassword::Hash(Scheme::Bcrypt));
    }
    if value.starts_with("pbkdf2_sha256$") {
        return django_pbkdf2(value).map(|_| SourcePassword::Hash(Scheme::DjangoPbkdf2Sha256));
    }
    if value.starts_with("$pbkdf2-sha256$") {
        return pbkdf2_form(value).map(|_| SourcePassword::Hash(Scheme::Pbkdf2Sha256));
    }
    let upper = value.get(..10).unwrap_or(value).to_ascii_uppercase();
    for (marker, name) in UNSUPPORTED {
        let hit = if marker.starts_with('{') {
            upper.starts_with(marker)
        } else {
            value.starts_with(marker)
        };
        if hit {
            return Err(FormError::Unsupported(name));
        }
    }
    Ok(SourcePassword::Plain)
}

fn malformed(scheme: &'static str, why: impl Into<String>) -> FormError {
    FormError::Malformed {
        scheme,
        why: why.into(),
    }
}

/// A PHC Argon2 string that the `argon2` crate can verify, within the cost bounds.
fn argon2_form(phc: &str) -> Result<PasswordHash<'_>, FormError> {
    let bad = |why: &str| malformed("Argon2", why);
    let h = PasswordHash::new(phc).map_err(|_| bad("not a PHC string"))?;
    Algorithm::try_from(h.algorithm).map_err(|_| bad("unknown algorithm"))?;
    if let Some(v) = h.version {
        Version::try_from(v).map_err(|_| bad("unknown version"))?;
    }
    let p = Params::try_from(&h).map_err(|_| bad("parameters out of range"))?;
    if p.m_cost() > MAX_ARGON2_M_KIB || p.t_cost() > MAX_ARGON2_T || p.p_cost() > MAX_ARGON2_P {
        return Err(bad(&format!(
            "costs beyond Ferry's limits m={MAX_ARGON2_M_KIB}, t={MAX_ARGON2_T}, p={MAX_ARGON2_P}"
        )));
    }
    let salt_ok = h.salt.is_some_and(|s| s.len() >= 11);
    let out_ok = h.hash.is_some_and(|o| (16..=64).contains(&o.len()));
    if !salt_ok || !out_ok {
        return Err(bad("salt or hash missing or too short"));
    }
    Ok(h)
}

/// bcrypt's base-64 alphabet.
const BCRYPT_B64: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `$2b$CC$` + 22 characters of salt + 31 of hash, in bcrypt's alphabet, cost 4 to the bound.
/// (Checked by hand: the `bcrypt` crate's parser accepts empty fields and any characters, and
/// a hash that does not decode would then fail every sign-in instead of the import.)
fn bcrypt_form(v: &str) -> Result<(), FormError> {
    let bad = |why: &str| malformed("bcrypt", why);
    let b = v.as_bytes();
    if b.len() != 60 || !matches!(&b[..4], b"$2a$" | b"$2b$" | b"$2y$") || b[6] != b'$' {
        return Err(bad(
            "it must be $2b$, two digits of cost, $ and 53 characters",
        ));
    }
    let cost: u32 = v[4..6]
        .parse()
        .map_err(|_| bad("the cost is not a number"))?;
    if !(4..=MAX_BCRYPT_COST).contains(&cost) {
        return Err(bad(&format!(
            "cost {cost} is outside 4 to {MAX_BCRYPT_COST}"
        )));
    }
    let index = |c: u8| BCRYPT_B64.iter().position(|x| *x == c);
    let body = &b[7..];
    if body.iter().any(|c| index(*c).is_none()) {
        return Err(bad("characters outside bcrypt's alphabet"));
    }
    // The last character of the salt carries 2 bits and that of the hash 4: the rest are zero.
    let salt_end = index(body[21]).unwrap_or(1);
    let hash_end = index(body[52]).unwrap_or(1);
    if salt_end % 16 != 0 || hash_end % 4 != 0 {
        return Err(bad("the salt or hash does not decode"));
    }
    Ok(())
}

/// Django: `pbkdf2_sha256$ITERATIONS$SALT$BASE64(32 bytes)`.
fn django_pbkdf2(v: &str) -> Result<(u32, &str, Vec<u8>), FormError> {
    let bad = |why: &str| malformed("Django pbkdf2_sha256", why);
    let parts: Vec<&str> = v.split('$').collect();
    let [_, iterations, salt, digest] = parts.as_slice() else {
        return Err(bad("it must be pbkdf2_sha256$ITERATIONS$SALT$HASH"));
    };
    let iterations = iterations_of(iterations).ok_or_else(|| bad(&iterations_range()))?;
    if salt.is_empty() {
        return Err(bad("the salt is empty"));
    }
    let digest = base64::engine::general_purpose::STANDARD
        .decode(digest)
        .ok()
        .filter(|d| d.len() == 32)
        .ok_or_else(|| bad("the hash is not 32 bytes of base64"))?;
    Ok((iterations, salt, digest))
}

/// An iteration count from 1 to `MAX_PBKDF2_ITERATIONS`; none for anything else.
fn iterations_of(s: &str) -> Option<u32> {
    match s.parse::<u32>() {
        Ok(n) if (1..=MAX_PBKDF2_ITERATIONS).contains(&n) && !s.starts_with('+') => Some(n),
        _ => None,
    }
}

/// Why an iteration count is refused.
fn iterations_range() -> String {
    format!("the iteration count must be a number from 1 to {MAX_PBKDF2_ITERATIONS}")
}

/// `$pbkdf2-sha256$…`: the PHC form (`$pbkdf2-sha256$i=N,l=32$SALT$HASH`, standard base64
/// without padding) or passlib's (`$pbkdf2-sha256$N$SALT$HASH`, base64 with `.` for `+`).
/// Returns (iterations, salt bytes, hash bytes).
fn pbkdf2_form(v: &str) -> Result<(u32, Vec<u8>, Vec<u8>), FormError> {
    let bad = |why: &str| malformed("PBKDF2-SHA256", why);
    let parts: Vec<&str> = v.split('$').collect();
    let [_, _, params, salt, digest] = parts.as_slice() else {
        return Err(bad("it must be $pbkdf2-sha256$PARAMETERS$SALT$HASH"));
    };
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let (iterations, length) = if params.bytes().all(|c| c.is_ascii_digit()) {
        (
            iterations_of(params).ok_or_else(|| bad(&iterations_range()))?,
            32,
        )
    } else {
        let mut i = None;
        let mut l = 32usize;
        for kv in params.split(',') {
            match kv.split_once('=') {
                Some(("i", n)) => {
                    i = Some(iterations_of(n).ok_or_else(|| bad(&iterations_range()))?)
                }
                Some(("l", n)) => l = n.parse().map_err(|_| bad("bad length"))?,
                _ => return Err(bad("unknown parameter")),
            }
        }
        (i.ok_or_else(|| bad("no iteration count"))?, l)
    };
    let decode = |s: &str| b64.decode(s.replace('.', "+")).ok();
    let salt = decode(salt)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("the salt is not base64"))?;
    let digest = decode(digest)
        .filter(|d| d.len() == length && (16..=64).contains(&length))
        .ok_or_else(|| bad("the hash is not base64 of the stated length"))?;
    Ok((iterations, salt, digest))
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Mismatch,
    /// The password is right; `upgrade` when the stored hash is not Ferry's Argon2id with
    /// Ferry's parameters (it should be replaced by [`hash`] of the password now).
    Match {
        upgrade: bool,
    },
}

/// Checks a password against a stored hash of any supported scheme, in constant time in the
/// comparison. A login without a usable password (or a hash that does not parse) is a mismatch
/// that costs as long as a real check, so timing does not tell such logins apart.
pub fn verify(password: &str, stored: &str) -> Verdict {
    let matched = |ok: bool, upgrade: bool| {
        if ok {
            Verdict::Match { upgrade }
        } else {
            Verdict::Mismatch
        }
    };
    match classify(stored) {
        Ok(SourcePassword::Hash(Scheme::Argon2)) => {
            let phc = stored.strip_prefix("argon2").unwrap_or(stored);
            match PasswordHash::new(phc) {
                Ok(h) => {
                    let ok = Argon2::default()
                        .verify_password(password.as_bytes(), &h)
                        .is_ok();
                    matched(ok, !is_current(stored))
                }
                Err(_) => Verdict::Mismatch,
            }
        }
        Ok(SourcePassword::Hash(Scheme::Bcrypt)) => {
            let h = stored.strip_prefix("bcrypt$").unwrap_or(stored);
            matched(bcrypt::verify(password, h).unwrap_or(false), true)
        }
        Ok(SourcePassword::Hash(Scheme::BcryptSha256)) => {
            let h = stored.strip_prefix("bcrypt_sha256$").unwrap_or(stored);
            let hex = hex::encode(Sha256::digest(password.as_bytes()));
            matched(bcrypt::verify(hex, h).unwrap_or(false), true)
        }
        Ok(SourcePassword::Hash(Scheme::DjangoPbkdf2Sha256)) => match django_pbkdf2(stored) {
            Ok((n, salt, want)) => matched(pbkdf2_equal(password, salt.as_bytes(), n, &want), true),
            Err(_) => Verdict::Mismatch,
        },
        Ok(SourcePassword::Hash(Scheme::Pbkdf2Sha256)) => match pbkdf2_form(stored) {
            Ok((n, salt, want)) => matched(pbkdf2_equal(password, &salt, n, &want), true),
            Err(_) => Verdict::Mismatch,
        },
        Ok(SourcePassword::Plain) | Err(_) => {
            // No usable hash: spend the time of a real check anyway.
            let _ = argon2id().verify_password(password.as_bytes(), &dummy());
            Verdict::Mismatch
        }
    }
}

/// Whether a stored hash is Ferry's Argon2id with Ferry's current parameters.
pub fn is_current(stored: &str) -> bool {
    let Ok(h) = PasswordHash::new(stored) else {
        return false;
    };
    h.algorithm == argon2::ARGON2ID_IDENT
        && h.version == Some(0x13)
        && Params::try_from(&h).is_ok_and(|p| {
            p.m_cost() == ARGON2_M_KIB && p.t_cost() == ARGON2_T && p.p_cost() == ARGON2_P
        })
}

/// How a stored hash is described to staff (never the hash): `argon2id` for Ferry's own,
/// `none` for a login without a usable password, else the legacy scheme.
pub fn describe(stored: &str) -> &'static str {
    if stored == UNUSABLE {
        return "none";
    }
    if is_current(stored) {
        return "argon2id";
    }
    match classify(stored) {
        Ok(SourcePassword::Hash(s)) => s.name(),
        _ => "unknown",
    }
}

fn pbkdf2_equal(password: &str, salt: &[u8], iterations: u32, want: &[u8]) -> bool {
    let mut out = vec![0u8; want.len()];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out.ct_eq(want).into()
}

/// An Argon2id hash of Ferry's parameters that no password matches, for equal timing.
fn dummy() -> PasswordHash<'static> {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let s = H.get_or_init(|| hash(&random_hex(32)).unwrap_or_default());
    PasswordHash::new(s).unwrap_or_else(|_| {
        PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .expect("constant hash")
    })
}

/// A strong temporary password that reads well aloud or on paper: four groups of five
/// characters from an alphabet without look-alikes (0/O, 1/l/I): about 99 bits.
pub fn temporary() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let groups: Vec<String> = (0..4)
        .map(|_| {
            (0..5)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect()
        })
        .collect();
    groups.join("-")
}

/// Whether a new password is acceptable: 12 to 1024 characters, not only white space, and not
/// the username itself. No composition rules (NIST SP 800-63B).
pub fn check_new(password: &str, username: &str) -> Result<(), crate::LoginError> {
    let n = password.chars().count();
    let weak = |why: String| Err(crate::LoginError::WeakPassword(why));
    if n < MIN_PASSWORD_CHARS {
        return weak(format!(
            "a password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return weak(format!(
            "a password may have at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    if password.trim().is_empty() {
        return weak("a password cannot be only white space".into());
    }
    if password.to_lowercase() == username.to_lowercase() {
        return weak("a password cannot be the username".into());
    }
    Ok(())
}

/// `n` random bytes from the operating system, as hex.
pub fn random_hex(n: usize) -> String {
    use rand::RngCore;
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "correct horse battery staple";

    /// Hashes made by other implementations (Python's bcrypt, argon2-cffi and hashlib) of
    /// [`PW`]: each verifies with the right password only, and asks for an upgrade.
    const LEGACY: &[(&str, Scheme)] = &[
        ("$2b$04$zgFReH9nEo0fHQWf3FkHVezSEl/VlvJMMj9RQ8/ox7h4c0YV7YT8a", Scheme::Bcrypt),
        ("$2a$05$n1XDZqas3O/iaBR3WI3cfOXzpFcn4QwAVfrFPRp1WylXpHdsyWi4y", Scheme::Bcrypt),
        ("$2y$05$n1XDZqas3O/iaBR3WI3cfOXzpFcn4QwAVfrFPRp1WylXpHdsyWi4y", Scheme::Bcrypt),
        ("bcrypt$$2b$04$o.dkrk9G1eKFlmVb1hBVhe9./fBC3SCjGGrPKQcxdFzRiA5SWv6ZK", Scheme::Bcrypt),
        ("bcrypt_sha256$$2b$04$SQ0GPfTDNwubtbYquciHBuDYf.tGXgAIjxS3Qd6okcGIEM4tX9aKi", Scheme::BcryptSha256),
        ("pbkdf2_sha256$1000$seasalt12345$lc9upgiPQ2muevvuisr7qA/SNSmKyk+QjwXhw/n1uhw=", Scheme::DjangoPbkdf2Sha256),
        ("$pbkdf2-sha256$1200$AQIDBAUGBwgJCgsMDQ4PEA$QLD1e/5H83/f2snqfG0Hh0v1Z7O6MdqVq0ll2KX1pNY", Scheme::Pbkdf2Sha256),
        ("$pbkdf2-sha256$i=1500,l=32$FBUWFxgZGhscHR4fICEiIw$f3PKoKMqNnt2phfvzLdCGCJZm/lCbzRErBgIJm9Il/0", Scheme::Pbkdf2Sha256),
        ("$argon2id$v=19$m=1024,t=1,p=2$Sm/zBdLX4BSy+B+VVcqtrg$hrmq9yXppsCzrXH1hoJa/BKq0bHico7WdKJSmBlsdSo", Scheme::Argon2),
        ("$argon2i$v=19$m=1024,t=2,p=1$8OOJotjndLCntRKwgGsmwg$nSpzz6Q5TvmvW1zuPyaDOIg5fh8xIsvqQJoa6EF0H/w", Scheme::Argon2),
        ("argon2$argon2id$v=19$m=2048,t=1,p=1$NUQInmpcbVBs5GDiD1JpRg$msItpQaYZMlgFeYdZXENJyxUheO2T5P5bOE4aleiGVw", Scheme::Argon2),
    ];

    #[test]
    fn legacy_hashes_of_other_implementations_verify_and_upgrade() {
        for (h, scheme) in LEGACY {
            assert_eq!(classify(h), Ok(SourcePassword::Hash(*scheme)), "{h}");
            assert_eq!(verify(PW, h), Verdict::Match { upgrade: true }, "{h}");
            assert_eq!(
                verify("correct horse battery stapl3", h),
                Verdict::Mismatch,
                "{h}"
            );
            assert_ne!(describe(h), "argon2id");
        }
    }

    #[test]
    fn ferry_hashes_are_current_argon2id() {
        let h = hash(PW).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(is_current(&h));
        assert_eq!(describe(&h), "argon2id");
        assert_eq!(verify(PW, &h), Verdict::Match { upgrade: false });
        assert_eq!(verify("nope", &h), Verdict::Mismatch);
        assert_eq!(verify(PW, UNUSABLE), Verdict::Mismatch);
        assert_eq!(describe(UNUSABLE), "none");
    }

    #[test]
    fn damaged_hashes_are_refused_and_plain_passwords_pass() {
        let cut = &LEGACY[0].0[..40];
        for bad in [
            cut,
            "$2b$04$zgFReH9nEo0fHQWf3FkHVezSEl/VlvJMMj9RQ8/ox7h4c0YV7YT8",
            "$2b$04$zgFReH9nEo0fHQWf3FkHVezSEl/VlvJMMj9RQ8/ox7h4c0YV7YT8!",
            "$2b$31$zgFReH9nEo0fHQWf3FkHVezSEl/VlvJMMj9RQ8/ox7h4c0YV7YT8a",
            "$2b$04$zgFReH9nEo0fHQWf3FkHVzzSEl/VlvJMMj9RQ8/ox7h4c0YV7YT8a",
            "$argon2id$v=19$m=1024,t=1,p=2$Sm/zBdLX4BSy+B+VVcqtrg",
            "$argon2id$v=19$m=4194304,t=1,p=2$Sm/zBdLX4BSy+B+VVcqtrg$hrmq9yXppsCzrXH1hoJa/BKq0bHico7WdKJSmBlsdSo",
            "$argon2id$",
            "pbkdf2_sha256$0$salt$lc9upgiPQ2muevvuisr7qA/SNSmKyk+QjwXhw/n1uhw=",
            "pbkdf2_sha256$1000$seasalt12345$lc9upgiPQ2muevvuisr7qA",
            "pbkdf2_sha256$1000$lc9upgiPQ2muevvuisr7qA/SNSmKyk+QjwXhw/n1uhw=",
            "$pbkdf2-sha256$i=1500,l=32$FBUWFxgZGhscHR4fICEiIw$f3PK",
        ] {
            assert!(
                matches!(classify(bad), Err(FormError::Malformed { .. })),
                "{bad}"
            );
            let message = classify(bad).unwrap_err().to_string();
            assert!(!message.contains(bad), "the message quotes the value");
        }
        for unsupported in [
            "$1$abc$def",
            "$6$rounds=5000$salt$hash",
            "{SSHA}abc",
            "{ssha}abc",
            "$P$Babcdef",
            "sha1$a$b",
        ] {
            assert!(
                matches!(classify(unsupported), Err(FormError::Unsupported(_))),
                "{unsupported}"
            );
        }
        for plain in [
            "hunter2",
            "$money$",
            "2b$04$",
            "argon2id",
            "pbkdf2",
            "$",
            "S3cret!$2b$",
        ] {
            assert_eq!(classify(plain), Ok(SourcePassword::Plain), "{plain}");
        }
    }

    #[test]
    fn temporary_passwords_are_strong_and_new_passwords_checked() {
        let (a, b) = (temporary(), temporary());
        assert_ne!(a, b);
        assert_eq!(a.len(), 23);
        assert!(check_new(&a, "x@example.org").is_ok());
        assert!(check_new("short", "x").is_err());
        assert!(check_new("someone@example.org", "Someone@example.org").is_err());
        assert!(check_new(&"x".repeat(1025), "u").is_err());
    }
}
