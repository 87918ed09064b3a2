//! colt-tensor (being written)
