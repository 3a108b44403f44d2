//! Integration tests: the real `bacpredict` executable, run in temporary folders on small
//! inline fixtures or on académies it simulates itself. One test binary (so one link),
//! with the shared helpers in [`util`] and one module per theme.

mod backtest;
mod cli;
mod columns;
mod faults;
mod forecast;
mod input_errors;
mod model_file;
mod office;
mod pages;
mod results_day;
mod slots;
mod spreadsheets;
mod util;
