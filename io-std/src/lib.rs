//! Under construction (issue 2).
