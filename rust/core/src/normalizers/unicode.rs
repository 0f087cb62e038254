//! The four Unicode normalization forms as normalizers: `NFC`, `NFD`, `NFKC`, `NFKD`.

use serde::{Deserialize, Serialize};

use super::Normalizer;
use crate::tokenizer::NormalizedString;
use crate::Result;

macro_rules! unicode_form {
    ($name:ident, $method:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name {}

        impl Normalizer for $name {
            fn normalize(&self, n: &mut NormalizedString) -> Result<()> {
                // ASCII text is invariant under every normalization form.
                if !n.get().is_ascii() {
                    n.$method();
                }
                Ok(())
            }
        }
    };
}

unicode_form!(Nfc, nfc, "Canonical composition.");
unicode_form!(Nfd, nfd, "Canonical decomposition.");
unicode_form!(Nfkc, nfkc, "Compatibility composition.");
unicode_form!(Nfkd, nfkd, "Compatibility decomposition.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let mut n = NormalizedString::from("e\u{301}ﬁ");
        Nfc {}.normalize(&mut n).unwrap();
        assert_eq!(n.get(), "éﬁ");
        Nfkd {}.normalize(&mut n).unwrap();
        assert_eq!(n.get(), "e\u{301}fi");
        Nfkc {}.normalize(&mut n).unwrap();
        assert_eq!(n.get(), "éfi");
        Nfd {}.normalize(&mut n).unwrap();
        assert_eq!(n.get(), "e\u{301}fi");
    }
}
