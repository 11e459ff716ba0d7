//! The bytes before the text: the first bytes decide between UTF-8 text, UTF-16 text (by its byte
//! order mark) and a binary file refused up front; UTF-16 is decoded to UTF-8 chunk by chunk.

use std::io::{self, BufRead, ErrorKind, Read};

/// How many leading bytes the sniffing looks at.
pub const HEAD: usize = 6;
/// Raw bytes decoded per UTF-16 chunk.
const CHUNK: usize = 1 << 16;

/// What the first bytes say about the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Sniff {
    /// UTF-8 (or ASCII) text.
    Text,
    /// UTF-16 with a byte order mark: `true` for big-endian.
    Utf16(bool),
    /// Not text: what it looks like.
    Binary(&'static str),
}

/// Reads up to `HEAD` bytes (fewer only at the end of the input).
pub fn read_head<R: Read>(input: &mut R) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; HEAD];
    let mut n = 0;
    while n < HEAD {
        match input.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(n);
    Ok(head)
}

/// Classifies the first bytes: UTF-16 byte order marks, then the gzip, Arrow and Parquet magics.
pub fn sniff(head: &[u8]) -> Sniff {
    if head.starts_with(&[0xFF, 0xFE]) {
        Sniff::Utf16(false)
    } else if head.starts_with(&[0xFE, 0xFF]) {
        Sniff::Utf16(true)
    } else if head.starts_with(&[0x1F, 0x8B]) {
        Sniff::Binary("gzip")
    } else if head.starts_with(b"ARROW1") || head.starts_with(&[0xFF, 0xFF, 0xFF, 0xFF]) {
        Sniff::Binary("Arrow")
    } else if head.starts_with(b"PAR1") {
        Sniff::Binary("Parquet")
    } else {
        Sniff::Text
    }
}

/// A UTF-16 byte stream (without its byte order mark) read as UTF-8. An odd trailing byte and a
/// high surrogate at the end of a chunk wait for the next chunk; unpaired surrogates become
/// U+FFFD, an odd byte at the end of the input is dropped.
pub struct Utf16<R> {
    input: R,
    big_endian: bool,
    raw: Vec<u8>,
    /// Bytes of the previous chunk not yet decoded (at most 3).
    carry: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<R: Read> Utf16<R> {
    pub fn new(input: R, big_endian: bool) -> Self {
        Utf16 {
            input,
            big_endian,
            raw: Vec::with_capacity(CHUNK + 4),
            carry: Vec::with_capacity(4),
            out: Vec::with_capacity(CHUNK * 3 / 2),
            pos: 0,
            eof: false,
        }
    }

    /// Reads and decodes the next chunk into `out`.
    fn decode_chunk(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        self.raw.clear();
        self.raw.extend_from_slice(&self.carry);
        self.carry.clear();
        let start = self.raw.len();
        self.raw.resize(start + CHUNK, 0);
        let n = loop {
            match self.input.read(&mut self.raw[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.raw.truncate(start + n);
        if n == 0 {
            self.eof = true;
        }
        let be = self.big_endian;
        let unit = |b: &[u8]| {
            if be {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            }
        };
        let mut end = self.raw.len() & !1;
        if !self.eof {
            if end >= 2 && (0xD800..0xDC00).contains(&unit(&self.raw[end - 2..end])) {
                end -= 2;
            }
            self.carry.extend_from_slice(&self.raw[end..]);
        }
        let units = self.raw[..end].chunks_exact(2).map(unit);
        let mut tmp = [0u8; 4];
        for c in char::decode_utf16(units) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Utf16<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.out.len() && !self.eof {
            self.decode_chunk()?;
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], be: bool, chunk: usize) -> String {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut s = String::new();
        Utf16::new(Trickle(bytes, chunk), be)
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn splits_anywhere() {
        let text = "a,é\n𝄞x\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for chunk in 1..8 {
            assert_eq!(decode(&le, false, chunk), text);
            assert_eq!(decode(&be, true, chunk), text);
        }
        assert_eq!(decode(&le[..le.len() - 1], false, 3), "a,é\n𝄞x\r");
    }

    #[test]
    fn sniffs_magics() {
        assert_eq!(sniff(b"\xFF\xFEt\0"), Sniff::Utf16(false));
        assert_eq!(sniff(b"\xFE\xFF\0t"), Sniff::Utf16(true));
        assert_eq!(sniff(b"\x1F\x8B\x08"), Sniff::Binary("gzip"));
        assert_eq!(sniff(b"ARROW1"), Sniff::Binary("Arrow"));
        assert_eq!(sniff(b"\xFF\xFF\xFF\xFF"), Sniff::Binary("Arrow"));
        assert_eq!(sniff(b"PAR1"), Sniff::Binary("Parquet"));
        assert_eq!(sniff(b"time,"), Sniff::Text);
    }
}
