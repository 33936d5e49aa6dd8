//! The checks every signed delivery shares: HMAC-SHA256 over the parts a tool signs, and
//! comparisons whose time does not depend on where the strings differ.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// HMAC-SHA256 of the concatenated `parts` with `key`.
#[must_use]
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether `given` is the lowercase or uppercase hex of `expected`, in constant time.
#[must_use]
pub fn hex_matches(expected: &[u8; 32], given: &str) -> bool {
    match hex::decode(given.trim()) {
        Ok(bytes) => bytes.ct_eq(expected).into(),
        Err(_) => false,
    }
}

/// Whether two byte strings are equal, in time that does not depend on where they differ.
#[must_use]
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hex_matches(&mac, &hex::encode(mac)));
        assert!(hex_matches(&mac, &hex::encode_upper(mac)));
        assert!(!hex_matches(&mac, &hex::encode([0u8; 32])));
        assert!(!hex_matches(&mac, "not hex"));
        assert!(!hex_matches(&mac, ""));
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"ab"));
    }
}
