//! Decoding any supported audio file to PCM and encoding PCM to Ogg Vorbis.
//! (Placeholder with the agreed signatures; the real one lands from the audio branch.)

use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Pcm {
    pub sample_rate: u32,
    pub channels: u16,
    pub samples: Vec<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    Low,
    Normal,
    High,
}

impl Quality {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "low" => Some(Self::Low),
            "normal" => Some(Self::Normal),
            "high" => Some(Self::High),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(String);

pub fn decode_file(path: &Path) -> Result<Pcm, CodecError> {
    Err(CodecError(format!("cannot decode {}", path.display())))
}

pub fn encode_vorbis(pcm: &Pcm, quality: Quality, out: &Path) -> Result<(), CodecError> {
    let _ = (pcm, quality);
    Err(CodecError(format!("cannot encode {}", out.display())))
}
