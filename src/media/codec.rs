//! Decoding any supported audio file to PCM and encoding PCM to Ogg Vorbis. (To be written.)
