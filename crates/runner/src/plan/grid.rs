//! The grid: the product of a variant's axes, each point a fully resolved run with its id
//! and stream seeds ([`record::seeds`]).

use super::PlannedRun;
pub use record::seeds::{data_stream, run_id, streams};
use record::spec::RunSpec;

pub fn planned(spec: RunSpec) -> PlannedRun {
    PlannedRun {
        id: run_id(&spec),
        streams: streams(&spec),
        spec,
        keeps_boundary: false, // decided over the whole grid, in `validate`
    }
}
