//! Validation rules shared by the server (which enforces them) and clients
//! (which can check input before sending it).

pub mod file_name;
pub mod names;
pub mod password;
pub mod search;
pub mod text;

pub use file_name::{FileNameError, is_sha256_hex, validate_file_name};
pub use names::{NameError, name_key, validate_name};
pub use password::{PasswordError, validate_password};
pub use search::{SearchTextError, search_words};
pub use text::{TextError, validate_client_id, validate_text};
