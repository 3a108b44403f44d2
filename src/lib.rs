//! bacpredict: forecast the baccalauréat second-group oral choices and plan examiners.
//!
//! The modules follow the office's workflow: [`input`] reads and validates the CSV
//! exports, [`model`] learns the choice model, [`forecast`] turns it into count
//! distributions, [`planning`] into examiners and convocations, [`backtest`] scores it
//! on past sessions, [`report`] and [`html`] write the results, [`parallel`] spreads
//! independent work over the cores, [`simulate`] makes a
//! synthetic académie, and [`cli`] ties them to the command line.

pub mod backtest;
pub mod cli;
pub mod forecast;
pub mod html;
pub mod input;
pub mod model;
pub mod parallel;
pub mod planning;
pub mod report;
pub mod simulate;
