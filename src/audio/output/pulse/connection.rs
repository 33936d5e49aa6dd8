//! One connection to a PulseAudio server in its native protocol: the messages both ways.
//!
//! Two threads share the socket. A reader thread (one per connection) reads whole
//! messages — a descriptor, then its `length` bytes — and forwards them on the output's
//! event channel, tagged with the connection's number, so that a late message from a
//! connection already given up on is recognised and ignored. The audio thread writes each
//! message with one `write_all` from a buffer kept for the purpose: nothing it sends while
//! playing allocates, and a message is never interleaved with another.

use std::io::{self, BufReader, Cursor, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use pulseaudio::protocol::{
    self, Command, CommandReply, CommandTag, Descriptor, DescriptorFlags, ProtocolError,
    PulseError, TagStructReader,
};

use super::timing::{bytes_of, seek_back};

/// How long one write may block. The server reads its socket all the time; one that
/// stopped reading is gone, and the stall watchdog would say so later anyway.
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// How often a wait looks at the output's stop channel.
pub(super) const LOOK_EVERY: Duration = Duration::from_millis(50);

/// The longest message accepted from the server: PulseAudio's own limit on a packet.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// The channel number of control messages (commands and replies) in a descriptor.
const CONTROL: u32 = u32::MAX;

/// What the audio thread waits for.
#[derive(Debug)]
pub(super) enum Event {
    /// A message from the server on connection number `connection`.
    Server { connection: u64, message: Message },
    /// The control side scheduled a sound: rewrite the queued audio now.
    Nudge,
}

/// A message from the server, as the reader thread forwards it.
#[derive(Debug)]
pub(super) enum Message {
    /// A command the server sent on its own: a request for audio, a stream event.
    Command(Box<Command>),
    /// The answer to our command number `seq`: its payload, or the server's error.
    Reply {
        seq: u32,
        body: Result<Vec<u8>, PulseError>,
    },
    /// A message the crate cannot read; the ones after it still can be.
    Unreadable(String),
    /// The connection is gone, and why.
    Closed(String),
}

/// The audio thread's ends of its channels.
pub(super) struct Inbox {
    /// For the reader threads of new connections.
    pub(super) sender: Sender<Event>,
    pub(super) events: Receiver<Event>,
    /// Disconnects (or says so) when the output is dropped.
    pub(super) stop: Receiver<()>,
}

impl Inbox {
    /// Whether the output is being dropped.
    pub(super) fn stopped(&self) -> bool {
        !matches!(self.stop.try_recv(), Err(TryRecvError::Empty))
    }

    /// Whether the output was dropped, waiting at most `wait` for it.
    pub(super) fn stopped_within(&self, wait: Duration) -> bool {
        !matches!(self.stop.recv_timeout(wait), Err(RecvTimeoutError::Timeout))
    }
}

/// A server error in words.
pub(super) fn explain(error: PulseError) -> String {
    match error {
        PulseError::AccessDenied => "access denied".into(),
        PulseError::NoEntity => "no such entity".into(),
        PulseError::Invalid => "invalid argument".into(),
        PulseError::Protocol => "protocol error".into(),
        PulseError::Timeout => "timed out".into(),
        PulseError::TooLarge => "too large".into(),
        PulseError::NotSupported => "not supported".into(),
        other => format!("{other:?}"),
    }
}

/// A connection with its reader thread. Dropping it shuts the socket, which ends the
/// reader.
pub(super) struct Connection {
    id: u64,
    socket: UnixStream,
    /// The protocol version agreed on; the reader reads the same one.
    version: u16,
    shared_version: Arc<AtomicU16>,
    /// The last command number used.
    seq: u32,
    /// Commands are encoded here, then written in one go.
    command: Vec<u8>,
    /// Audio messages (descriptor, then samples) are encoded here.
    packet: Vec<u8>,
    reader: Option<JoinHandle<()>>,
}

impl Connection {
    /// Starts the reader thread on a connected socket; `packet_frames` is the most frames
    /// an audio message will carry.
    pub(super) fn start(
        id: u64,
        socket: UnixStream,
        inbox: &Inbox,
        packet_frames: usize,
    ) -> io::Result<Connection> {
        socket.set_write_timeout(Some(WRITE_TIMEOUT))?;
        let reading = socket.try_clone()?;
        let shared_version = Arc::new(AtomicU16::new(protocol::MAX_VERSION));
        let version = shared_version.clone();
        let events = inbox.sender.clone();
        let reader = std::thread::Builder::new()
            .name("gongan-pulse-reader".into())
            .spawn(move || read_messages(reading, id, &version, events))?;
        Ok(Connection {
            id,
            socket,
            version: protocol::MAX_VERSION,
            shared_version,
            seq: 0,
            command: Vec::with_capacity(256),
            packet: Vec::with_capacity(protocol::DESCRIPTOR_SIZE + bytes_len(packet_frames)),
            reader: Some(reader),
        })
    }

    /// The number its messages are tagged with.
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    /// The protocol version agreed on.
    pub(super) fn version(&self) -> u16 {
        self.version
    }

    /// Speaks protocol `version` from now on (the one the server agreed to), reading too.
    pub(super) fn agree_on(&mut self, version: u16) {
        self.version = version;
        self.shared_version.store(version, Ordering::Release);
    }

    /// Sends `command`; returns its number, which the reply carries.
    pub(super) fn send(&mut self, command: &Command) -> Result<u32, String> {
        self.seq = self.seq.wrapping_add(1);
        self.command.clear();
        let length =
            protocol::encode_command_message(&mut self.command, self.seq, command, self.version)
                .map_err(|err| format!("cannot encode a command for PulseAudio: {err}"))?;
        let message = self.command.get(..length).unwrap_or_default();
        self.socket.write_all(message).map_err(write_failed)?;
        Ok(self.seq)
    }

    /// Writes `samples` (interleaved stereo) to the stream on `channel`, starting `back`
    /// frames before the write index: 0 appends, more overwrites audio queued already
    /// (with the write index back where it was afterwards, as the samples fill the gap).
    pub(super) fn send_audio(
        &mut self,
        channel: u32,
        samples: &[f32],
        back: u64,
    ) -> Result<(), String> {
        let length = u32::try_from(samples.len() * 4)
            .map_err(|_| "an audio message too long for PulseAudio".to_owned())?;
        let mut descriptor = [0u8; protocol::DESCRIPTOR_SIZE];
        protocol::encode_descriptor(
            &mut descriptor,
            &Descriptor {
                length,
                channel,
                offset: seek_back(back),
                // Seek mode PA_SEEK_RELATIVE (0): relative to the write index.
                flags: DescriptorFlags::empty(),
            },
        );
        self.packet.clear();
        self.packet.extend_from_slice(&descriptor);
        for sample in samples {
            self.packet.extend_from_slice(&sample.to_le_bytes());
        }
        self.socket.write_all(&self.packet).map_err(write_failed)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Wakes the reader from its read; it ends there.
        let _ = self.socket.shutdown(Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The bytes of `frames` frames, as a length.
fn bytes_len(frames: usize) -> usize {
    usize::try_from(bytes_of(frames as u64)).unwrap_or(usize::MAX)
}

/// A write that failed, in words.
fn write_failed(err: io::Error) -> String {
    match err.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => format!(
            "the PulseAudio server took nothing from its socket for {} s",
            WRITE_TIMEOUT.as_secs()
        ),
        _ => format!("cannot write to the PulseAudio server: {err}"),
    }
}

/// A reply's payload, read as `T`.
pub(super) fn read_reply<T: CommandReply>(body: &[u8], version: u16) -> Result<T, ProtocolError> {
    let mut cursor = Cursor::new(body);
    let mut reader = TagStructReader::new(&mut cursor, version);
    reader.read::<T>()
}

/// Says the connection is gone when the reader ends, however it ends.
struct Farewell {
    connection: u64,
    events: Sender<Event>,
    why: String,
}

impl Drop for Farewell {
    fn drop(&mut self) {
        let _ = self.events.send(Event::Server {
            connection: self.connection,
            message: Message::Closed(std::mem::take(&mut self.why)),
        });
    }
}

/// The reader thread: forwards each message the server sends until the socket closes.
fn read_messages(socket: UnixStream, connection: u64, version: &AtomicU16, events: Sender<Event>) {
    let mut farewell = Farewell {
        connection,
        events: events.clone(),
        why: "the PulseAudio connection's reader stopped".into(),
    };
    let mut socket = BufReader::new(socket);
    loop {
        let descriptor = match protocol::read_descriptor(&mut socket) {
            Ok(descriptor) => descriptor,
            Err(err) => {
                farewell.why = lost(&err);
                return;
            }
        };
        let length = descriptor.length as usize;
        if length > MAX_MESSAGE {
            farewell.why = format!("the PulseAudio server sent a message of {length} bytes");
            return;
        }
        let mut body = vec![0u8; length];
        if let Err(err) = socket.read_exact(&mut body) {
            farewell.why = lost(&ProtocolError::Io(err));
            return;
        }
        if descriptor.channel != CONTROL {
            // Audio from a record stream: we have none.
            continue;
        }
        let message = parse(body, version.load(Ordering::Acquire));
        if events
            .send(Event::Server {
                connection,
                message,
            })
            .is_err()
        {
            return;
        }
    }
}

/// Why reading from the server failed, in words.
fn lost(err: &ProtocolError) -> String {
    match err {
        ProtocolError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            "the PulseAudio server closed the connection".into()
        }
        other => format!("lost the connection to the PulseAudio server: {other}"),
    }
}

/// Reads one control message.
fn parse(mut body: Vec<u8>, version: u16) -> Message {
    let mut cursor = Cursor::new(body.as_slice());
    let mut reader = TagStructReader::new(&mut cursor, version);
    let header = reader
        .read_enum::<CommandTag>()
        .and_then(|tag| Ok((tag, reader.read_u32()?)));
    let (tag, seq) = match header {
        Ok(header) => header,
        Err(err) => return Message::Unreadable(err.to_string()),
    };
    match tag {
        CommandTag::Reply => {
            let start = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
            body.drain(..start.min(body.len()));
            Message::Reply {
                seq,
                body: Ok(body),
            }
        }
        CommandTag::Error => Message::Reply {
            seq,
            body: Err(reader.read_enum().unwrap_or(PulseError::Unknown)),
        },
        _ => match Command::read_tag_prefixed(&mut Cursor::new(body.as_slice()), version) {
            Ok((_, command)) => Message::Command(Box::new(command)),
            Err(err) => Message::Unreadable(format!("{tag:?}: {err}")),
        },
    }
}

#[cfg(test)]
mod test {
    use pulseaudio::protocol::SetClientNameReply;

    use super::*;

    #[test]
    fn replies_errors_and_commands_are_told_apart() {
        let version = protocol::MAX_VERSION;
        let mut reply = Vec::new();
        protocol::encode_reply_message(
            &mut reply,
            7,
            &SetClientNameReply { client_id: 42 },
            version,
        )
        .unwrap();
        match parse(reply[protocol::DESCRIPTOR_SIZE..].to_vec(), version) {
            Message::Reply {
                seq: 7,
                body: Ok(body),
            } => {
                let read: SetClientNameReply = read_reply(&body, version).unwrap();
                assert_eq!(read.client_id, 42);
            }
            other => panic!("not a reply: {other:?}"),
        }
        let mut error = Vec::new();
        protocol::write_error(&mut error, 9, &PulseError::NoEntity).unwrap();
        assert!(matches!(
            parse(error[protocol::DESCRIPTOR_SIZE..].to_vec(), version),
            Message::Reply {
                seq: 9,
                body: Err(PulseError::NoEntity)
            }
        ));
        let mut request = Vec::new();
        let command = Command::Request(protocol::Request {
            channel: 3,
            length: 3840,
        });
        protocol::write_command_message(&mut request, u32::MAX, &command, version).unwrap();
        match parse(request[protocol::DESCRIPTOR_SIZE..].to_vec(), version) {
            Message::Command(read) => assert_eq!(*read, command),
            other => panic!("not a command: {other:?}"),
        }
        assert!(matches!(parse(vec![1, 2], version), Message::Unreadable(_)));
    }
}
