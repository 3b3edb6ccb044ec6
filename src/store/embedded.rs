//! The embedded single-file store (redb). (To be written.)
