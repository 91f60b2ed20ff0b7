//! Shared test support: the EMF validator, and helpers to run the built binary.
#![allow(dead_code)]

pub mod docker;
pub mod emf_rules;
pub mod inproc;
pub mod moto;
pub mod process;
