//! Per-worker connection pools shared by the drivers. Under construction.
