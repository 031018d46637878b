//! The PostgreSQL driver. Not built yet: the Sans-IO protocol machine is
//! complete in [`proto_pg`]; the driver on the worker event loops lands with
//! its issue.
