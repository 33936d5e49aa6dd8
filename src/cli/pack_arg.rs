//! `--pack NAME|DIR` for the commands that play without a server (`run`, `render`,
//! `pack play`): the default pack works from any folder, because the binary carries it.

use std::path::Path;

use anyhow::Context;
use gongan::config::PackChoice;
use gongan::pack::Pack;
use gongan::store::builtin_default_pack;

/// The `--pack` value that names the default pack.
pub const DEFAULT: &str = "default";

/// Loads the pack `text` names at `sample_rate`: `default` (the checkout's
/// `sounds/default/` when run from one, else the one built into the binary), an installed
/// pack's name (`DATA_DIR/packs/NAME`), or a pack folder.
pub fn load_pack(text: &str, sample_rate: u32) -> anyhow::Result<Pack> {
    let choice = PackChoice::parse(text)?;
    let dir = match choice {
        PackChoice::Default => {
            let checkout = Path::new("sounds/default");
            if !checkout.join("pack.toml").is_file() {
                return builtin_default_pack(sample_rate)
                    .context("the built-in default pack did not render");
            }
            checkout.to_owned()
        }
        PackChoice::Installed(name) => super::history::default_data_dir()?.join("packs").join(name),
        PackChoice::Dir(dir) => dir,
    };
    Pack::load(&dir, sample_rate)
        .with_context(|| format!("cannot load the pack in {}", dir.display()))
}
