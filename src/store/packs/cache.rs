//! [`PackCache`]: decoded packs kept in memory, so switching back to a pack played before
//! costs a lookup instead of decoding, resampling and measuring every file again (or, for
//! a built-in pack, synthesizing it again).
//!
//! What is kept: the active pack always (it is playing, so its samples are in memory
//! anyway) and, within [`CACHE_BUDGET_BYTES`] of decoded samples and at most
//! [`CACHE_MAX_PACKS`] packs, the most recently used of the others; the least recently used
//! goes first. A server that only ever plays the default pack holds nothing more than it
//! did before (PRODUCT.md §8 bounds its memory).
//!
//! Entries are checked against the pack's files on every use: a [`Fingerprint`] of the
//! manifest and every file it names (size and modification time, a stat each), so a pack
//! edited by hand in the data dir is loaded afresh. Replacing or deleting a pack through
//! the store updates or drops its entry at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::pack::{MANIFEST_FILE, Pack};

/// The decoded samples the cache may keep besides the active pack's: two or three
/// typical team packs, or the default pack and a large one.
pub const CACHE_BUDGET_BYTES: u64 = 64 * 1024 * 1024;
/// The most packs kept besides the active one.
pub const CACHE_MAX_PACKS: usize = 4;

/// What a pack's files were when it was decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fingerprint {
    /// A pack synthesized in memory: it cannot change while the server runs.
    BuiltIn,
    /// Size and modification time of the manifest and each file it names (`None` for a
    /// file that could not be looked at).
    Files(Vec<(PathBuf, Option<(u64, SystemTime)>)>),
}

impl Fingerprint {
    /// The fingerprint of the pack in `dir` (`None`: built in). `None` when its manifest
    /// cannot be read: such a pack is loaded (and its error reported) every time.
    #[must_use]
    pub fn of(dir: Option<&Path>) -> Option<Fingerprint> {
        let Some(dir) = dir else {
            return Some(Fingerprint::BuiltIn);
        };
        let manifest = super::read_manifest(dir).ok()?;
        let stat = |path: PathBuf| {
            let seen = std::fs::metadata(&path)
                .and_then(|m| Ok((m.len(), m.modified()?)))
                .ok();
            (path, seen)
        };
        let mut files = vec![stat(dir.join(MANIFEST_FILE))];
        for entry in manifest.instruments.values() {
            files.extend(entry.files().map(|file| stat(dir.join(file))));
        }
        Some(Fingerprint::Files(files))
    }
}

struct Entry {
    id: String,
    fingerprint: Fingerprint,
    pack: Arc<Pack>,
    bytes: u64,
    used: u64,
}

/// Decoded packs by id; see the module documentation.
pub struct PackCache {
    entries: Vec<Entry>,
    clock: u64,
    budget: u64,
    max_packs: usize,
}

impl Default for PackCache {
    fn default() -> PackCache {
        PackCache::new(CACHE_BUDGET_BYTES, CACHE_MAX_PACKS)
    }
}

impl PackCache {
    /// A cache keeping at most `budget` bytes in at most `max_packs` packs besides the
    /// active one.
    #[must_use]
    pub fn new(budget: u64, max_packs: usize) -> PackCache {
        PackCache {
            entries: Vec::new(),
            clock: 0,
            budget,
            max_packs,
        }
    }

    /// Pack `id` if it is kept and its files are still as `fingerprint` says; a stale
    /// entry is dropped.
    pub fn get(&mut self, id: &str, fingerprint: &Fingerprint) -> Option<Arc<Pack>> {
        let index = self.entries.iter().position(|e| e.id == id)?;
        if self.entries[index].fingerprint != *fingerprint {
            self.entries.swap_remove(index);
            return None;
        }
        self.clock += 1;
        let entry = &mut self.entries[index];
        entry.used = self.clock;
        Some(entry.pack.clone())
    }

    /// Keeps `pack` as `id` (replacing what was kept under that id), then lets go of the
    /// least recently used packs other than `active` until the rest fits the budget.
    pub fn insert(&mut self, id: &str, fingerprint: Fingerprint, pack: Arc<Pack>, active: &str) {
        self.forget(id);
        self.clock += 1;
        self.entries.push(Entry {
            id: id.to_owned(),
            fingerprint,
            bytes: decoded_bytes(&pack),
            pack,
            used: self.clock,
        });
        self.evict(active);
    }

    /// Drops pack `id` (replaced or deleted).
    pub fn forget(&mut self, id: &str) {
        self.entries.retain(|e| e.id != id);
    }

    /// Applies the budget with `active` as the active pack (after a switch).
    pub fn evict(&mut self, active: &str) {
        loop {
            let others = self.entries.iter().filter(|e| e.id != active);
            let (count, bytes) = others.fold((0, 0u64), |(n, b), e| (n + 1, b + e.bytes));
            if count <= self.max_packs && bytes <= self.budget {
                return;
            }
            let oldest = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.id != active)
                .min_by_key(|(_, e)| e.used)
                .map(|(i, _)| i);
            match oldest {
                Some(index) => {
                    let gone = self.entries.swap_remove(index);
                    tracing::debug!(
                        "pack {} leaves the cache ({} of decoded samples)",
                        gone.id,
                        crate::store::files::size(gone.bytes)
                    );
                }
                None => return,
            }
        }
    }

    /// The ids kept, most recently used first.
    #[must_use]
    pub fn ids(&self) -> Vec<String> {
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.used));
        entries.into_iter().map(|e| e.id.clone()).collect()
    }

    /// Decoded bytes kept in all, the active pack's included.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.bytes).sum()
    }
}

/// The memory a pack's decoded samples take.
#[must_use]
pub fn decoded_bytes(pack: &Pack) -> u64 {
    pack.instruments()
        .flat_map(|instrument| instrument.sounds())
        .map(|sound| std::mem::size_of_val(sound.samples()) as u64)
        .sum()
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::audio::Sound;
    use crate::pack::Instrument;

    /// A pack of one instrument holding `samples` mono samples.
    fn pack(samples: usize) -> Arc<Pack> {
        let sound = Sound::mono(8_000, vec![0.5; samples]).unwrap();
        let instrument = Instrument::new("gong".into(), vec![Arc::new(sound)], 0.0).unwrap();
        let manifest = crate::synth::default_manifest(&[]);
        Arc::new(Pack::from_instruments(
            PathBuf::new(),
            manifest,
            [instrument],
        ))
    }

    #[test]
    fn the_least_recently_used_goes_first_and_the_active_pack_never() {
        // Room for two packs of 1000 samples (4000 bytes each) besides the active one.
        let mut cache = PackCache::new(8_000, 4);
        cache.insert("active", Fingerprint::BuiltIn, pack(1000), "active");
        cache.insert("a", Fingerprint::BuiltIn, pack(1000), "active");
        cache.insert("b", Fingerprint::BuiltIn, pack(1000), "active");
        assert!(cache.get("a", &Fingerprint::BuiltIn).is_some());
        cache.insert("c", Fingerprint::BuiltIn, pack(1000), "active");
        assert_eq!(cache.ids(), ["c", "a", "active"]);
        // A pack over the budget alone is not kept unless it is the active one.
        cache.insert("huge", Fingerprint::BuiltIn, pack(3000), "active");
        assert!(!cache.ids().contains(&"huge".to_owned()));
        cache.insert("huge", Fingerprint::BuiltIn, pack(3000), "huge");
        assert_eq!(cache.ids()[0], "huge");
        assert_eq!(cache.bytes(), 12_000 + 4_000);
    }

    #[test]
    fn a_changed_pack_is_not_served_from_the_cache() {
        let mut cache = PackCache::default();
        let before = Fingerprint::Files(vec![("a/pack.toml".into(), None)]);
        let after = Fingerprint::Files(vec![(
            "a/pack.toml".into(),
            Some((10, SystemTime::UNIX_EPOCH)),
        )]);
        cache.insert("a", before.clone(), pack(10), "default");
        assert!(cache.get("a", &after).is_none());
        assert!(cache.get("a", &before).is_none(), "the stale entry is gone");
        cache.insert("a", after.clone(), pack(10), "default");
        cache.forget("a");
        assert!(cache.get("a", &after).is_none());
    }

    #[test]
    fn a_fingerprint_sees_a_file_rewritten_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        crate::pack::scaffold(dir.path()).unwrap();
        let first = Fingerprint::of(Some(dir.path())).unwrap();
        assert_eq!(Fingerprint::of(Some(dir.path())).unwrap(), first);
        let gong = dir.path().join("gong.wav");
        let mut bytes = std::fs::read(&gong).unwrap();
        bytes.extend_from_slice(&[0, 0]);
        std::fs::write(&gong, bytes).unwrap();
        assert_ne!(Fingerprint::of(Some(dir.path())).unwrap(), first);
        assert_eq!(Fingerprint::of(None), Some(Fingerprint::BuiltIn));
        assert_eq!(Fingerprint::of(Some(&dir.path().join("none"))), None);
    }
}
