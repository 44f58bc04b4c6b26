//! Zip archives, written in memory or to a file: a file's name and bytes at a time (or
//! its bytes piece by piece), text deflated, files that are compressed already (images,
//! PDF, OOXML) stored as they are.

use std::io::{Cursor, Seek, Write};

use zip::{write::SimpleFileOptions, CompressionMethod, DateTime, ZipWriter};

use super::DocumentError;

/// An archive being written to `W` (memory unless said otherwise).
pub struct Archive<W: Write + Seek = Cursor<Vec<u8>>> {
    zip: ZipWriter<W>,
    /// Every entry's time: the moment the archive stands for, not the moment it was
    /// written, so that the same content gives the same bytes.
    at: DateTime,
}

impl Archive {
    /// An empty archive in memory whose entries are dated `at` (local time).
    pub fn new(at: chrono::NaiveDateTime) -> Self {
        Archive::to(Cursor::new(Vec::new()), at)
    }

    /// The archive's bytes.
    pub fn finish(self) -> Result<Vec<u8>, DocumentError> {
        Ok(self.zip.finish()?.into_inner())
    }
}

impl<W: Write + Seek> Archive<W> {
    /// An empty archive written to `out`, its entries dated `at` (local time).
    pub fn to(out: W, at: chrono::NaiveDateTime) -> Self {
        use chrono::{Datelike, Timelike};
        let at = DateTime::from_date_and_time(
            u16::try_from(at.year()).unwrap_or(1980),
            at.month() as u8,
            at.day() as u8,
            at.hour() as u8,
            at.minute() as u8,
            at.second() as u8,
        )
        .unwrap_or_default();
        Self { zip: ZipWriter::new(out), at }
    }

    /// Adds a file; `compress` deflates it.
    pub fn add(&mut self, name: &str, bytes: &[u8], compress: bool) -> Result<(), DocumentError> {
        self.start(name, bytes.len() as u64, compress)?;
        self.write(bytes)
    }

    /// Starts a file of `size` bytes, written next with [`Archive::write`].
    pub fn start(&mut self, name: &str, size: u64, compress: bool) -> Result<(), DocumentError> {
        let method = if compress { CompressionMethod::Deflated } else { CompressionMethod::Stored };
        // Level 1: a letter's document or a dossier's record deflates to within a few
        // per cent of level 6 at a fraction of its work.
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .compression_level(compress.then_some(1))
            .last_modified_time(self.at)
            .large_file(size >= u64::from(u32::MAX));
        self.zip.start_file(name, options)?;
        Ok(())
    }

    /// More of the file started last.
    pub fn write(&mut self, piece: &[u8]) -> Result<(), DocumentError> {
        self.zip.write_all(piece)?;
        Ok(())
    }

    /// Copies every entry of the archive `source` as it is stored (nothing inflated or
    /// deflated again), dated as this archive's entries; `before(i, self)` runs before
    /// the `i`th is copied, and once more after the last.
    pub fn copy(
        &mut self,
        source: &[u8],
        mut before: impl FnMut(usize, &mut Self) -> Result<(), DocumentError>,
    ) -> Result<(), DocumentError> {
        let mut zip = zip::ZipArchive::new(Cursor::new(source))?;
        for i in 0..zip.len() {
            before(i, self)?;
            let file = zip.by_index_raw(i)?;
            self.zip.raw_copy_file_touch(file, self.at, None)?;
        }
        before(zip.len(), self)
    }

    /// The archive, complete, in `W`.
    pub fn close(self) -> Result<W, DocumentError> {
        Ok(self.zip.finish()?)
    }
}

/// The entries of a zip archive, by name, with their bytes.
pub fn entries(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, DocumentError> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DocumentError::Template(e.to_string()))?;
    let mut out = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).map_err(|e| DocumentError::Template(e.to_string()))?;
        let mut data = Vec::with_capacity(file.size().min(64 << 20) as usize);
        file.read_to_end(&mut data)?;
        let name = file.name().map_err(|e| DocumentError::Template(e.to_string()))?.into_owned();
        out.push((name, data));
    }
    Ok(out)
}
