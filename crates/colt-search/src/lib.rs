//! colt-search (being written)
