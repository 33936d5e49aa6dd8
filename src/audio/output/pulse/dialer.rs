//! Opening a stream on a PulseAudio server: finding its socket, connecting, authenticating,
//! and creating the playback stream — the same way at the first open and at each
//! reconnect, and never waiting longer than [`HANDSHAKE_TIMEOUT`] for it.

use std::ffi::CString;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pulseaudio::protocol::{
    self, AuthParams, AuthReply, ChannelMap, Command, CommandReply, CreatePlaybackStreamReply,
    PlaybackStreamParams, Prop, Props, PulseError, SampleFormat, SampleSpec, SetClientNameReply,
};

use super::connection::{Connection, Event, Inbox, LOOK_EVERY, Message, explain, read_reply};
use super::timing::bytes_of;
use crate::audio::DEFAULT_SAMPLE_RATE;
use crate::audio::output::Latency;

/// How long connecting, authenticating and creating the stream may take together. A
/// server that was stopped (SIGSTOP, a debugger) still accepts connections on its socket
/// but never answers; one that runs answers within milliseconds.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);

/// The length of the authentication cookie the server expects; any other length gets the
/// client disconnected with a protocol error.
const COOKIE_LENGTH: usize = 256;

/// Why no stream could be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refused {
    /// The output is being dropped.
    Stopped,
    /// The sink asked for does not exist (or the server has none): its description.
    NoSink(String),
    /// Anything else, in a sentence.
    Failed(String),
}

/// The playback stream the server made for us.
#[derive(Debug, Clone)]
pub(super) struct StreamInfo {
    /// Its channel on this connection.
    pub(super) channel: u32,
    /// The sink it plays to, as the server names it.
    pub(super) sink: String,
    /// Bytes the server asks for at once.
    pub(super) requested: u64,
    /// The sink latency the server configured for it: about the most each frame waits in
    /// the sink once the stream's queue is behind it.
    pub(super) sink_latency: Duration,
}

/// Opens connections and streams.
pub(super) struct Dialer {
    /// The sink asked for; `None` for the server's default.
    sink: Option<String>,
    latency: Latency,
    /// The most frames one audio message carries.
    packet_frames: usize,
    /// The number the next connection gets.
    next_id: u64,
    /// A connect that has not returned: the server's listen queue is full, as happens to
    /// one that stopped. No second is started beside it.
    connecting: Option<JoinHandle<()>>,
}

impl Dialer {
    /// Streams to `sink` (the server's default when `None`) with about `latency` queued,
    /// written in messages of up to `packet_frames`.
    pub(super) fn new(sink: Option<String>, latency: Latency, packet_frames: usize) -> Dialer {
        Dialer {
            sink,
            latency,
            packet_frames,
            next_id: 0,
            connecting: None,
        }
    }

    /// Connects to the server, says who we are, and creates a playback stream (f32le
    /// stereo at the engine's rate).
    pub(super) fn dial(&mut self, inbox: &Inbox) -> Result<(Connection, StreamInfo), Refused> {
        let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
        let path = server_socket(|name| std::env::var(name).ok()).map_err(Refused::Failed)?;
        let socket = self.connect(&path, inbox, deadline)?;
        let id = self.next_id;
        self.next_id += 1;
        let mut connection = Connection::start(id, socket, inbox, self.packet_frames)
            .map_err(|err| Refused::Failed(format!("cannot use the PulseAudio socket: {err}")))?;
        authenticate(&mut connection, inbox, deadline)?;
        let stream = create_stream(
            &mut connection,
            self.sink.as_deref(),
            self.latency,
            inbox,
            deadline,
        )?;
        Ok((connection, stream))
    }

    /// Connects to the socket at `path` on a thread of its own: a connect to a server whose
    /// listen queue is full waits for it to accept, which one that stopped never does.
    fn connect(
        &mut self,
        path: &Path,
        inbox: &Inbox,
        deadline: Instant,
    ) -> Result<UnixStream, Refused> {
        let place = path.display();
        if self.connecting.as_ref().is_some_and(|c| !c.is_finished()) {
            return Err(Refused::Failed(format!(
                "the PulseAudio server at {place} accepts no connections (is it stopped?)"
            )));
        }
        let (done, connected) = mpsc::channel();
        let target = path.to_owned();
        let thread = std::thread::Builder::new()
            .name("gongan-pulse-connect".into())
            .spawn(move || {
                let _ = done.send(UnixStream::connect(target));
            })
            .map_err(|err| Refused::Failed(format!("cannot start a thread to connect: {err}")))?;
        self.connecting = Some(thread);
        loop {
            if inbox.stopped() {
                return Err(Refused::Stopped);
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            match connected.recv_timeout(wait.min(LOOK_EVERY)) {
                Ok(Ok(socket)) => return Ok(socket),
                Ok(Err(err)) => {
                    return Err(Refused::Failed(format!(
                        "cannot reach the PulseAudio server at {place}: {err}"
                    )));
                }
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(Refused::Failed(format!(
                        "the PulseAudio server at {place} did not accept the connection \
                         within {} s",
                        HANDSHAKE_TIMEOUT.as_secs()
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Refused::Failed(format!(
                        "connecting to the PulseAudio server at {place} failed"
                    )));
                }
            }
        }
    }
}

/// Sends `command` and waits for its reply until `deadline`: `Ok(Err(_))` when the server
/// answered with an error.
fn ask<T: CommandReply>(
    connection: &mut Connection,
    command: &Command,
    inbox: &Inbox,
    deadline: Instant,
) -> Result<Result<T, PulseError>, Refused> {
    let seq = connection.send(command).map_err(Refused::Failed)?;
    loop {
        if inbox.stopped() {
            return Err(Refused::Stopped);
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            return Err(Refused::Failed(format!(
                "the PulseAudio server did not answer within {} s (is it stopped?)",
                HANDSHAKE_TIMEOUT.as_secs()
            )));
        }
        let message = match inbox.events.recv_timeout(wait.min(LOOK_EVERY)) {
            Ok(Event::Server {
                connection: from,
                message,
            }) if from == connection.id() => message,
            // Nudges before the stream plays, and what is left of older connections.
            Ok(_) | Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Refused::Failed("the output's event channel closed".into()));
            }
        };
        match message {
            Message::Reply {
                seq: answered,
                body,
            } if answered == seq => {
                return match body {
                    Ok(body) => read_reply(&body, connection.version())
                        .map(Ok)
                        .map_err(|err| {
                            Refused::Failed(format!("cannot read PulseAudio's answer: {err}"))
                        }),
                    Err(error) => Ok(Err(error)),
                };
            }
            Message::Closed(why) => return Err(Refused::Failed(why)),
            Message::Command(_) | Message::Reply { .. } | Message::Unreadable(_) => {}
        }
    }
}

/// Authenticates and names the client; agrees on the protocol version.
fn authenticate(
    connection: &mut Connection,
    inbox: &Inbox,
    deadline: Instant,
) -> Result<(), Refused> {
    let auth = Command::Auth(AuthParams {
        version: protocol::MAX_VERSION,
        supports_shm: false,
        supports_memfd: false,
        cookie: cookie(),
    });
    let reply: AuthReply = ask(connection, &auth, inbox, deadline)?.map_err(|error| {
        Refused::Failed(format!(
            "the PulseAudio server refused gongan ({}): is its cookie readable \
             ($PULSE_COOKIE, ~/.config/pulse/cookie)?",
            explain(error)
        ))
    })?;
    if reply.version < protocol::MIN_VERSION {
        return Err(Refused::Failed(format!(
            "the PulseAudio server speaks protocol version {}, older than {}",
            reply.version,
            protocol::MIN_VERSION
        )));
    }
    connection.agree_on(reply.version.min(protocol::MAX_VERSION));
    let mut props = Props::new();
    props.set(Prop::ApplicationName, c"gongan");
    if let Ok(pid) = CString::new(std::process::id().to_string()) {
        props.set(Prop::ApplicationProcessId, pid);
    }
    let _: SetClientNameReply = ask(connection, &Command::SetClientName(props), inbox, deadline)?
        .map_err(|error| {
        Refused::Failed(format!(
            "the PulseAudio server refused gongan's name ({})",
            explain(error)
        ))
    })?;
    Ok(())
}

/// Creates the playback stream.
fn create_stream(
    connection: &mut Connection,
    sink: Option<&str>,
    latency: Latency,
    inbox: &Inbox,
    deadline: Instant,
) -> Result<StreamInfo, Refused> {
    let sink_name = sink
        .map(|name| {
            CString::new(name).map_err(|_| {
                Refused::NoSink(format!(
                    "'{}' (a sink name has no NUL)",
                    name.escape_debug()
                ))
            })
        })
        .transpose()?;
    let mut props = Props::new();
    props.set(Prop::MediaName, c"gongan");
    let params = PlaybackStreamParams {
        sample_spec: sample_spec(),
        channel_map: ChannelMap::stereo(),
        sink_name,
        buffer_attr: buffer_attr(latency),
        props,
        flags: protocol::stream::StreamFlags {
            // The latency asked for is the whole of it: the server splits it between the
            // stream's queue and the sink's own buffer.
            adjust_latency: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let reply: CreatePlaybackStreamReply = ask(
        connection,
        &Command::CreatePlaybackStream(params),
        inbox,
        deadline,
    )?
    .map_err(|error| match (error, sink) {
        (PulseError::NoEntity, Some(name)) => Refused::NoSink(format!(
            "'{name}' among the PulseAudio server's sinks (`pactl list short sinks` \
                     lists them)"
        )),
        (PulseError::NoEntity, None) => {
            Refused::NoSink("(the PulseAudio server has no sink)".into())
        }
        (error, _) => Refused::Failed(format!(
            "the PulseAudio server refused the stream ({})",
            explain(error)
        )),
    })?;
    if reply.sample_spec != sample_spec() {
        return Err(Refused::Failed(format!(
            "the PulseAudio server made a stream of {:?} instead of float stereo at {} Hz",
            reply.sample_spec, DEFAULT_SAMPLE_RATE
        )));
    }
    Ok(StreamInfo {
        channel: reply.channel,
        sink: reply.sink_name.map_or_else(
            || format!("sink {}", reply.sink_index),
            |name| name.to_string_lossy().into_owned(),
        ),
        requested: u64::from(reply.requested_bytes),
        sink_latency: Duration::from_micros(reply.stream_latency),
    })
}

/// Where the server's socket is, from the environment `var` reads, as libpulse looks:
/// `$PULSE_SERVER` when set (its first local entry: `unix:PATH` or a plain path, after an
/// optional `{machine-id}`), else `$PULSE_RUNTIME_PATH/native`, else
/// `$XDG_RUNTIME_DIR/pulse/native`. Not `pulseaudio::socket_path_from_env`: that one looks
/// for `$PULSE_RUNTIME_PATH/pulse/native`, which libpulse never uses, and gives up at the
/// first candidate that is missing.
fn server_socket(var: impl Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    if let Some(servers) = set("PULSE_SERVER") {
        let local = servers.split_whitespace().find_map(|entry| {
            let entry = match entry.strip_prefix('{') {
                Some(rest) => rest.split_once('}').map_or("", |(_, after)| after),
                None => entry,
            };
            entry
                .strip_prefix("unix:")
                .or_else(|| entry.starts_with('/').then_some(entry))
                .map(PathBuf::from)
        });
        return local.ok_or_else(|| {
            format!(
                "PULSE_SERVER ('{servers}') names no local socket: gongan plays only to a \
                 PulseAudio server on this machine"
            )
        });
    }
    if let Some(runtime) = set("PULSE_RUNTIME_PATH") {
        return Ok(PathBuf::from(runtime).join("native"));
    }
    if let Some(runtime) = set("XDG_RUNTIME_DIR") {
        return Ok(PathBuf::from(runtime).join("pulse").join("native"));
    }
    Err("no PulseAudio server found: neither PULSE_SERVER nor XDG_RUNTIME_DIR is set".into())
}

/// The cookie to authenticate with: the user's (`$PULSE_COOKIE`, `~/.config/pulse/cookie`)
/// when it can be read and has the right length, else zeros, which a server that allows
/// anonymous clients accepts (an empty cookie gets the client disconnected).
fn cookie() -> Vec<u8> {
    pulseaudio::cookie_path_from_env()
        .and_then(|path| std::fs::read(path).ok())
        .filter(|cookie| cookie.len() == COOKIE_LENGTH)
        .unwrap_or_else(|| vec![0; COOKIE_LENGTH])
}

/// The sample spec of every stream: what the engine renders. The server resamples for a
/// sink at another rate.
fn sample_spec() -> SampleSpec {
    SampleSpec {
        format: SampleFormat::Float32Le,
        channels: 2,
        sample_rate: DEFAULT_SAMPLE_RATE,
    }
}

/// The queue asked for: `latency` in all (`tlength`, which with `adjust_latency` includes
/// the sink's buffer), room for four times that, requests of half of it, and the server's
/// default prebuffering (the whole target) before it starts.
///
/// Half, because with `adjust_latency` PulseAudio gives the sink `(tlength − 2 × minreq) / 2`
/// of its own buffer: at half, that is nothing, the queue stays in our stream (where a
/// rewrite reaches it at once) and the sink renders just in time — the sink's latency is
/// a rewrite's floor, 10 ms at a quarter. cpal's stream asks the same (two periods).
fn buffer_attr(latency: Latency) -> protocol::stream::BufferAttr {
    let frames = u64::from(latency.frames(DEFAULT_SAMPLE_RATE));
    let target = u32::try_from(bytes_of(frames)).unwrap_or(u32::MAX);
    let request = u32::try_from(bytes_of((frames / 2).max(1))).unwrap_or(u32::MAX);
    protocol::stream::BufferAttr {
        max_length: target.saturating_mul(4),
        target_length: target,
        pre_buffering: u32::MAX,
        minimum_request_length: request,
        ..Default::default()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn the_socket_is_found_where_libpulse_looks() {
        let found = |vars: &[(&str, &str)]| server_socket(env(vars));
        assert_eq!(
            found(&[
                ("PULSE_SERVER", "unix:/tmp/p/native"),
                ("XDG_RUNTIME_DIR", "/x")
            ]),
            Ok(PathBuf::from("/tmp/p/native"))
        );
        assert_eq!(
            found(&[("PULSE_SERVER", "tcp:host {abc}unix:/run/a /run/b")]),
            Ok(PathBuf::from("/run/a"))
        );
        assert_eq!(
            found(&[("PULSE_SERVER", "/run/plain")]),
            Ok(PathBuf::from("/run/plain"))
        );
        assert_eq!(
            found(&[("PULSE_RUNTIME_PATH", "/tmp/rt"), ("XDG_RUNTIME_DIR", "/x")]),
            Ok(PathBuf::from("/tmp/rt/native"))
        );
        assert_eq!(
            found(&[("PULSE_SERVER", " "), ("XDG_RUNTIME_DIR", "/run/user/1000")]),
            Ok(PathBuf::from("/run/user/1000/pulse/native"))
        );
        let remote = found(&[("PULSE_SERVER", "tcp:elsewhere:4713")]).unwrap_err();
        assert!(remote.contains("no local socket"), "{remote}");
        let none = found(&[]).unwrap_err();
        assert!(none.contains("no PulseAudio server"), "{none}");
    }

    #[test]
    fn the_queue_asked_for_is_the_latency() {
        let attr = buffer_attr(Latency::DEFAULT);
        // 40 ms at 48 kHz, 8 bytes a frame.
        assert_eq!(attr.target_length, 1920 * 8);
        assert_eq!(attr.max_length, 4 * 1920 * 8);
        assert_eq!(attr.minimum_request_length, 960 * 8);
        assert_eq!(attr.pre_buffering, u32::MAX);
        let least = buffer_attr(Latency::MIN);
        assert_eq!(least.minimum_request_length % 8, 0);
        assert!(least.minimum_request_length > 0);
    }
}
