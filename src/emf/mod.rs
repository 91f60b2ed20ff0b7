//! CloudWatch Embedded Metric Format: the encoder. No I/O.

pub mod encode;

pub use encode::{Encoded, EncoderConfig, Rejected, encode};
