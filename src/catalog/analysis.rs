//! Audio analysis: decoded audio in, a raw feature vector out. (To be written.)
