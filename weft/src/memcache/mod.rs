//! The memcached driver. Not built yet: the Sans-IO protocol machine is
//! complete in [`proto_memcache`]; the driver on the worker event loops lands
//! with its issue.
