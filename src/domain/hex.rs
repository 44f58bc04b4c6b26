//! Bytes written as lower-case hex, and read back: digests, chain hashes, certificate
//! serials, MACs.

/// `bytes` in lower-case hex, two digits a byte, written digit by digit: every audit
/// record and every file's digest takes it, where a `format!` a byte was an allocation
/// each.
pub fn lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// The bytes `hex` writes, two digits a byte; `None` for an odd number of digits or
/// anything not a digit.
pub fn bytes(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len() / 2).map(|i| byte(hex, i)).collect()
}

/// The `N` bytes `hex` writes (a digest, a chain hash), read without an allocation;
/// `None` unless it is `2 * N` digits.
pub fn array<const N: usize>(hex: &str) -> Option<[u8; N]> {
    if hex.len() != 2 * N {
        return None;
    }
    let mut out = [0; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = byte(hex, i)?;
    }
    Some(out)
}

/// Byte `i` of `hex`: two digits, nothing else (`from_str_radix` would take "+f").
fn byte(hex: &str, i: usize) -> Option<u8> {
    let digit = |at: usize| char::from(*hex.as_bytes().get(at)?).to_digit(16);
    u8::try_from(digit(2 * i)? << 4 | digit(2 * i + 1)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_lower_case_digits_a_byte_high_nibble_first() {
        assert_eq!(lower(&[0x0f, 0xa5, 0x00, 0xf0, 0x9b]), "0fa500f09b");
        assert_eq!(lower(&[]), "");
        let all: Vec<u8> = (0..=255).collect();
        let written = lower(&all);
        assert_eq!(written.len(), 512);
        assert!(written.starts_with("000102"), "{written}");
        assert!(written.ends_with("fdfeff"), "{written}");
        assert_eq!(bytes(&written), Some(all));
    }

    #[test]
    fn read_back_two_digits_a_byte_or_not_at_all() {
        assert_eq!(bytes("0fA5"), Some(vec![0x0f, 0xa5]));
        assert_eq!(bytes(""), Some(vec![]));
        assert_eq!(bytes("0fa"), None, "an odd number of digits");
        assert_eq!(bytes("0g"), None, "not a digit");
        assert_eq!(bytes("0档"), None, "not a digit either");
        assert_eq!(bytes("+f"), None, "a sign is no digit");
        assert_eq!(array::<2>("0fa5"), Some([0x0f, 0xa5]));
        assert_eq!(array::<2>("0fa5ff"), None, "too many digits");
        assert_eq!(array::<2>("0fa"), None, "too few");
    }
}
