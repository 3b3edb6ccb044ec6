//! Audio files and their renditions on disk; HTTP Range streaming of them.

pub mod codec;
