//! `report`: tables (polars) and figures (plotters) from the records the runner writes, and a Markdown report. Filled by its own issue; nothing here yet.
