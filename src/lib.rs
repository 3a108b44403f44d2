//! bacpredict: forecast the baccalauréat second-group oral choices and plan examiners.
//!
//! The data flows one way, and the modules follow it. [`data`] holds the types every
//! stage shares (the dataset, slots, cell keys, roster entries and summons); [`input`]
//! reads and validates the office's files into them, [`model`] learns the choice model,
//! [`forecast`] turns it into count distributions, [`planning`] into examiners and
//! convocations, [`promise`] checks and calibrates the coverage the plan promises on the
//! model's replayed past sessions, [`confirm`] meets results day, [`backtest`] scores all of it on past
//! sessions, [`report`] writes the results, and [`cmd`] ties them to the command line.
//! [`numeric`], [`parallel`] and [`shown`] are the shared helpers (small linear algebra;
//! work spread over the cores; file values as messages show them), [`simulate`] makes a
//! synthetic académie.
//!
//! Only [`cmd`] is public: the binary parses, runs and maps errors to exit codes; every
//! other item is the crate's own (the fuzz targets are public only in a build with the
//! `fuzz` feature, for the fuzzing example).

pub(crate) mod backtest;
pub mod cmd;
pub(crate) mod confirm;
pub(crate) mod data;
pub(crate) mod forecast;
/// The fuzz targets: built for the tests and, with the `fuzz` feature, for
/// `examples/fuzz.rs`; never in the shipped tool.
#[cfg(any(test, feature = "fuzz"))]
#[doc(hidden)]
pub mod fuzz;
pub(crate) mod input;
pub(crate) mod model;
pub(crate) mod numeric;
pub(crate) mod parallel;
pub(crate) mod planning;
pub(crate) mod promise;
pub(crate) mod report;
pub(crate) mod shown;
pub(crate) mod simulate;
pub(crate) mod zones;
