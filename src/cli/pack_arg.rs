//! `--pack NAME|DIR` for the commands that play without a server (`run`, `render`,
//! `pack play`): the built-in packs work from any folder, because the binary carries them.

use std::path::Path;

use anyhow::Context;
use gongan::config::PackChoice;
use gongan::pack::Pack;
use gongan::synth::BuiltInPack;

/// The `--pack` value that names the default pack.
pub const DEFAULT: &str = "default";

/// Loads the pack `text` names at `sample_rate`: `default` (the checkout's
/// `sounds/default/` when run from one, else the one built into the binary), another
/// built-in pack (`bali`), an installed pack's name (`DATA_DIR/packs/NAME`), or a pack
/// folder. Any pack but the default falls back to the default pack for the instruments it
/// does not define, as the server's do.
pub fn load_pack(text: &str, sample_rate: u32) -> anyhow::Result<Pack> {
    let pack = match PackChoice::parse(text)? {
        PackChoice::Default => return default_pack(sample_rate),
        PackChoice::Installed(name) => match BuiltInPack::named(&name) {
            Some(built_in) => built_in
                .render(sample_rate)
                .with_context(|| format!("the built-in pack {name} did not render"))?,
            None => load_dir(
                &super::history::default_data_dir()?.join("packs").join(name),
                sample_rate,
            )?,
        },
        PackChoice::Dir(dir) => load_dir(&dir, sample_rate)?,
    };
    Ok(pack.with_fallback(&default_pack(sample_rate)?))
}

fn load_dir(dir: &Path, sample_rate: u32) -> anyhow::Result<Pack> {
    Pack::load(dir, sample_rate)
        .with_context(|| format!("cannot load the pack in {}", dir.display()))
}

/// The default pack: the checkout's `sounds/default/` when run from one, else the one
/// built into the binary.
fn default_pack(sample_rate: u32) -> anyhow::Result<Pack> {
    let checkout = Path::new("sounds/default");
    if checkout.join("pack.toml").is_file() {
        return load_dir(checkout, sample_rate);
    }
    BuiltInPack::Default
        .render(sample_rate)
        .context("the built-in default pack did not render")
}
