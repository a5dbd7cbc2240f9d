//! Where a request's body ends and the next head starts: `Content-Length`, chunked, or a framing
//! the edge does not follow (then it passes the connection to hyper unchecked).

/// Where the stream is in the request it reads.
#[derive(Debug)]
pub(super) enum Phase {
    /// Reading a head, held back in `head`.
    Head,
    /// This many body bytes left.
    Length(u64),
    /// A chunked body.
    Chunked(Chunk),
    /// Not checking any more: everything goes to hyper.
    Transparent,
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy)]
pub(super) enum Chunk {
    Size { value: u64, digits: u8 },
    Extension { value: u64 },
    SizeEnd { value: u64 },
    Data(u64),
    DataCr,
    DataLf,
    Trailer { empty_line: bool },
}

/// What one step of a chunked body found.
pub(super) enum Step {
    Go(Chunk),
    Done,
    Invalid,
}

impl Chunk {
    pub(super) fn after_size(value: u64) -> Step {
        if value == 0 {
            Step::Go(Self::Trailer { empty_line: true })
        } else {
            Step::Go(Self::Data(value))
        }
    }

    /// The state after `byte` (not for `Data`, which is taken in bulk).
    pub(super) fn step(self, byte: u8) -> Step {
        match self {
            Self::Size { value, digits } => match byte {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' if digits < 15 => {
                    let digit = u64::from((byte as char).to_digit(16).unwrap_or(0));
                    Step::Go(Self::Size {
                        value: value * 16 + digit,
                        digits: digits + 1,
                    })
                }
                b';' | b' ' | b'\t' if digits > 0 => Step::Go(Self::Extension { value }),
                b'\r' if digits > 0 => Step::Go(Self::SizeEnd { value }),
                b'\n' if digits > 0 => Self::after_size(value),
                _ => Step::Invalid,
            },
            Self::Extension { value } => match byte {
                b'\r' => Step::Go(Self::SizeEnd { value }),
                b'\n' => Self::after_size(value),
                _ => Step::Go(self),
            },
            Self::SizeEnd { value } => match byte {
                b'\n' => Self::after_size(value),
                _ => Step::Invalid,
            },
            Self::DataCr => match byte {
                b'\r' => Step::Go(Self::DataLf),
                b'\n' => Step::Go(Self::Size {
                    value: 0,
                    digits: 0,
                }),
                _ => Step::Invalid,
            },
            Self::DataLf => match byte {
                b'\n' => Step::Go(Self::Size {
                    value: 0,
                    digits: 0,
                }),
                _ => Step::Invalid,
            },
            Self::Trailer { empty_line } => match byte {
                b'\n' if empty_line => Step::Done,
                b'\n' => Step::Go(Self::Trailer { empty_line: true }),
                b'\r' => Step::Go(self),
                _ => Step::Go(Self::Trailer { empty_line: false }),
            },
            Self::Data(_) => Step::Invalid,
        }
    }
}

/// How the body after a checked head is framed, or `Transparent` when the stream does not follow it.
pub(super) fn framing(request: &httparse::Request<'_, '_>) -> Phase {
    if request.method == Some("CONNECT") {
        return Phase::Transparent;
    }
    let mut length: Option<u64> = None;
    let mut chunked = None;
    for header in request.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("upgrade") {
            return Phase::Transparent;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim);
            chunked = Some(last.is_some_and(|c| c.eq_ignore_ascii_case("chunked")));
        } else if name.eq_ignore_ascii_case("content-length") {
            let parsed = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok());
            match (parsed, length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return Phase::Transparent,
            }
        }
    }
    match (chunked, length) {
        (Some(true), None) => Phase::Chunked(Chunk::Size {
            value: 0,
            digits: 0,
        }),
        (Some(_), _) => Phase::Transparent,
        (None, Some(n)) if n > 0 => Phase::Length(n),
        (None, _) => Phase::Head,
    }
}
