//! `gongan pack install DIR|ARCHIVE [--server URL] [--name NAME]`: a pack into the local
//! data dir (the store's own install: every entry checked, the pack loaded, then renamed
//! into place), or uploaded to a running server (`PUT /v1/packs/{name}`, where the server
//! does the same).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use flate2::Compression;
use flate2::write::GzEncoder;
use gongan::client::Client;
use gongan::config::is_pack_name;
use gongan::store::archive::{self, Limits, MAX_UNPACKED_BYTES};
use gongan::store::packs::{PACKS_DIR, install_local};

/// `gongan pack install` flags.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// A pack folder (holding pack.toml), or a tar, tar.gz or zip archive of one.
    #[arg(value_name = "DIR|ARCHIVE")]
    source: PathBuf,
    /// The name to install it under [default: the folder's or the archive's name,
    /// lowercased, without .tar, .tar.gz, .tgz or .zip].
    #[arg(long)]
    name: Option<String>,
    /// Upload to this running server instead of installing into the local data dir.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// The server's token, when it has one (with --server).
    #[arg(long, env = "GONGAN_TOKEN", hide_env_values = true, value_name = "T")]
    token: Option<String>,
    /// The data dir to install into, without --server [default: the one `gongan serve`
    /// uses].
    #[arg(long, value_name = "DIR", env = "GONGAN_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

/// Runs `gongan pack install`.
pub fn run(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => name_of(&args.source)?,
    };
    if !is_pack_name(&name) {
        anyhow::bail!(
            "'{name}' cannot name a pack: pass --name NAME (lowercase letters, digits and single hyphens)"
        );
    }
    match &args.server {
        None => install(&args, &name),
        Some(server) => upload(&args, server, &name),
    }
}

/// Installs into the local data dir, with the store's own code.
fn install(args: &InstallArgs, name: &str) -> anyhow::Result<ExitCode> {
    let data_dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => super::history::default_data_dir()?,
    };
    let installed = install_local(
        &data_dir,
        name,
        &args.source,
        gongan::audio::DEFAULT_SAMPLE_RATE,
    )
    .with_context(|| format!("{} was not installed", args.source.display()))?;
    println!(
        "{} pack '{name}' ({} instruments) in {}; play it with `gongan serve --pack {name}`",
        if installed.replaced {
            "replaced"
        } else {
            "installed"
        },
        installed.info.instruments,
        data_dir.join(PACKS_DIR).join(name).display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Uploads to a running server: an archive as it is, a folder as a tar.gz made in memory.
fn upload(args: &InstallArgs, server: &str, name: &str) -> anyhow::Result<ExitCode> {
    let source = &args.source;
    let (bytes, media_type) = if source.is_dir() {
        let gzip = GzEncoder::new(Vec::new(), Compression::default());
        let mut gzip = archive::write_tar(source, gzip, &Limits::default())
            .with_context(|| format!("{} cannot be packed", source.display()))?;
        gzip.flush()?;
        (gzip.finish()?, archive::Format::TarGz.media_type())
    } else {
        let format = archive::sniff_file(source)
            .with_context(|| format!("{} cannot be uploaded", source.display()))?;
        let size = std::fs::metadata(source)?.len();
        if size > MAX_UNPACKED_BYTES {
            anyhow::bail!(
                "{} is {size} bytes, more than a pack may take ({MAX_UNPACKED_BYTES})",
                source.display()
            );
        }
        let bytes =
            std::fs::read(source).with_context(|| format!("cannot read {}", source.display()))?;
        (bytes, format.media_type())
    };
    let client = Client::new(server, args.token.clone())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (info, replaced) = runtime
        .block_on(client.upload_pack(name, bytes, media_type))
        .with_context(|| format!("{} was not uploaded", source.display()))?;
    println!(
        "{} pack '{name}' ({} instruments) on {}; play it with `curl -X POST {}/v1/packs/{name}/activate`",
        if replaced { "replaced" } else { "installed" },
        info.instruments,
        client.server(),
        client.server()
    );
    Ok(ExitCode::SUCCESS)
}

/// The name a pack is installed under by default: its folder's or archive's file name,
/// lowercased, without the archive's extension, spaces and underscores as hyphens.
fn name_of(source: &Path) -> anyhow::Result<String> {
    let file_name = source
        .canonicalize()
        .ok()
        .and_then(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| source.file_name().map(|n| n.to_string_lossy().into_owned()))
        .context("cannot tell the pack's name from its path: pass --name NAME")?;
    let lower = file_name.to_lowercase();
    let stem = [".tar.gz", ".tgz", ".tar", ".zip"]
        .iter()
        .find_map(|extension| lower.strip_suffix(extension))
        .unwrap_or(&lower);
    Ok(stem.replace([' ', '_'], "-"))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn names_come_from_the_file_name_without_its_archive_extension() {
        for (path, name) in [
            ("/x/Office_Sounds.tar.gz", "office-sounds"),
            ("team.zip", "team"),
            ("a/b/pack.tgz", "pack"),
            ("sounds/my pack.tar", "my-pack"),
            ("airhorn", "airhorn"),
        ] {
            assert_eq!(name_of(Path::new(path)).unwrap(), name, "{path}");
        }
    }
}
