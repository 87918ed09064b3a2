//! colt-report (in progress).
