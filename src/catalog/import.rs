//! Import of a real music folder. (To be written.)
