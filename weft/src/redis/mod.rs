//! Redis driver (issue 5). Under construction.
