pub mod guest;
pub mod host;
