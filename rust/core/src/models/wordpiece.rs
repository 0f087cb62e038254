//! (in progress)
use serde::{Deserialize, Serialize};
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WordPiece {}
impl super::Model for WordPiece {
    fn tokenize(&self, _piece: &str) -> crate::Result<Vec<super::Token>> {
        todo!()
    }
    fn token_to_id(&self, _token: &str) -> Option<u32> {
        todo!()
    }
    fn id_to_token(&self, _id: u32) -> Option<&str> {
        todo!()
    }
    fn vocab(&self) -> std::collections::HashMap<String, u32> {
        todo!()
    }
    fn vocab_size(&self) -> usize {
        todo!()
    }
}
