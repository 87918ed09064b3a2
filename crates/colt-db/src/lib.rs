//! colt-db (being written)
