//! Bytes written as lower-case hex: digests, chain hashes, certificate serials, MACs.

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
    }
}
