//! The Redis store. (To be written.)
