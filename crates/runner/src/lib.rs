//! `runner`: TOML experiment files, and sweeps over their grids that run in parallel, deterministically, and resume. Filled by its own issue; nothing here yet.
