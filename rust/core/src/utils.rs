//! Small shared pieces: the GPT-2 byte ↔ printable-char alphabet used by byte-level BPE.

use std::sync::OnceLock;

/// GPT-2's reversible map from each byte to a printable Unicode char: printable Latin-1 bytes map
/// to themselves, the others to U+0100 and up, in byte order. Byte-level BPE vocabularies are
/// written in this alphabet (`Ġ` is the space byte).
pub fn byte_to_char() -> &'static [char; 256] {
    static TABLE: OnceLock<[char; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = ['\0'; 256];
        let mut next_extra = 0u32;
        for (byte, slot) in table.iter_mut().enumerate() {
            let b = byte as u32;
            let printable = (0x21..=0x7E).contains(&b)
                || (0xA1..=0xAC).contains(&b)
                || (0xAE..=0xFF).contains(&b);
            *slot = if printable {
                char::from_u32(b).unwrap()
            } else {
                let c = char::from_u32(256 + next_extra).unwrap();
                next_extra += 1;
                c
            };
        }
        table
    })
}

/// The inverse of [`byte_to_char`]: `None` for chars outside the alphabet.
pub fn char_to_byte(c: char) -> Option<u8> {
    static INVERSE: OnceLock<rustc_hash::FxHashMap<char, u8>> = OnceLock::new();
    INVERSE
        .get_or_init(|| {
            byte_to_char()
                .iter()
                .enumerate()
                .map(|(b, &c)| (c, b as u8))
                .collect()
        })
        .get(&c)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_is_gpt2s() {
        let t = byte_to_char();
        assert_eq!(t[b' ' as usize], 'Ġ');
        assert_eq!(t[b'\n' as usize], 'Ċ');
        assert_eq!(t[b'a' as usize], 'a');
        for b in 0..=255u8 {
            assert_eq!(char_to_byte(t[b as usize]), Some(b));
        }
    }
}
