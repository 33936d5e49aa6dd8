// The listener's ear: plays the session's strokes in this browser, at the instants the
// room's sound card plays them (a listener link, `/listen/SECRET`).
//
// Three clocks meet here. The server's (seconds on its monotonic clock: every stroke
// instant is on it), this page's `performance.now()`, and the `AudioContext`'s. The first
// pair is tied by an NTP-style exchange with `…/time`: several round trips, the offsets
// of the fastest half, their median — measured again every half minute. The second pair
// is tied by the context's own output timestamp (which sample is heard at which
// performance instant), so the speaker's latency is accounted for. Strokes are then
// scheduled on the audio clock a few seconds ahead, never from a timer at their instant:
// they play on time in a background tab, where timers are slowed down.

/// How far ahead strokes are asked for and scheduled.
const AHEAD_SECONDS = 6;
/// How often the window is refilled (a background tab may run this only once a second).
const REFILL_MS = 1000;
/// How often the clock offset is measured again.
const RESYNC_MS = 30000;
/// Round trips per measurement.
const SAMPLES = 8;
/// How late a stroke may still start (matching the server's tolerance): later ones are
/// skipped, as the sound card skips them, rather than heard out of time.
const LATE_TOLERANCE = 0.02;
/// How late a cue struck now may still start. Its event leaves the server as the sound
/// card takes the cue, only the card's latency before it is heard, and may arrive after
/// that over a slow network: a gong a little late beats no gong, so it starts at once,
/// from its beginning.
const CUE_LATE_TOLERANCE = 0.25;
/// How far a scheduled stroke's instant may move on the audio clock before it is placed
/// again (see `replace`).
const REPLACE_THRESHOLD = 0.005;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/// Thrown when the link no longer opens anything (revoked): the ear stops for good.
export class LinkGone extends Error {}

export class Ear {
  /// `base`: the link's path, `/listen/SECRET`. `report(state)` is told what to show.
  constructor(base, report) {
    this.base = base;
    this.report = report;
    this.ctx = null;
    this.master = null;
    /// Decoded sounds by their path (`sounds/PACK/INSTRUMENT/VARIANT`).
    this.buffers = new Map();
    this.loading = new Map();
    /// Scheduled strokes by key: { at, source }.
    this.scheduled = new Map();
    /// Server clock ms = performance.now() + offsetMs.
    this.offsetMs = null;
    this.rttMs = null;
    this.played = 0;
    /// The active pack's id: its sounds' paths name it.
    this.pack = null;
    this.skipped = 0;
    this.replaced = 0;
    this.stopped = false;
    this.timers = [];
    this.volume = 1;
  }

  /// Starts listening; must be called from a user gesture (a tap), which lets the
  /// browser play sound.
  async unlock() {
    if (this.ctx) return this.ctx.resume();
    this.ctx = new AudioContext({ latencyHint: "interactive" });
    // The server's mix goes through a limiter; so does this one.
    const limiter = this.ctx.createDynamicsCompressor();
    limiter.threshold.value = -3;
    limiter.knee.value = 0;
    limiter.ratio.value = 20;
    limiter.attack.value = 0.001;
    limiter.release.value = 0.1;
    this.master = this.ctx.createGain();
    this.master.gain.value = this.volume;
    this.master.connect(limiter).connect(this.ctx.destination);
    await this.ctx.resume();
    await this.sync();
    await this.loadPack();
    await this.refill();
    this.timers.push(setInterval(() => this.refill().catch((e) => this.fail(e)), REFILL_MS));
    this.timers.push(setInterval(() => this.sync().catch((e) => this.fail(e)), RESYNC_MS));
  }

  setVolume(volume) {
    this.volume = volume;
    if (this.master) this.master.gain.setTargetAtTime(volume, this.ctx.currentTime, 0.02);
  }

  async get(path, init) {
    const response = await fetch(`${this.base}/${path}`, { cache: "no-store", ...init });
    if (response.status === 404 || response.status === 403) throw new LinkGone();
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response;
  }

  /// Measures this page's offset to the server's clock.
  async sync() {
    const samples = [];
    for (let i = 0; i < SAMPLES; i++) {
      const sent = performance.now();
      const { clock } = await (await this.get("time")).json();
      const received = performance.now();
      samples.push({ rtt: received - sent, offset: clock * 1000 - (sent + received) / 2 });
    }
    samples.sort((a, b) => a.rtt - b.rtt);
    const fastest = samples.slice(0, Math.ceil(samples.length / 2));
    this.offsetMs = median(fastest.map((s) => s.offset));
    this.rttMs = fastest[0].rtt;
    this.show();
  }

  /// Fetches and decodes every sound of the active pack, once.
  async loadPack() {
    const pack = await (await this.get("pack")).json();
    this.pack = pack.id;
    await Promise.all(pack.sounds.map((s) => this.buffer(s.sound)));
  }

  buffer(path) {
    if (this.buffers.has(path)) return Promise.resolve(this.buffers.get(path));
    if (!this.loading.has(path)) {
      this.loading.set(path, (async () => {
        const bytes = await (await this.get(path)).arrayBuffer();
        const decoded = await this.ctx.decodeAudioData(bytes);
        this.buffers.set(path, decoded);
        this.loading.delete(path);
        return decoded;
      })());
    }
    return this.loading.get(path);
  }

  /// The facilitator chose another pack: its sounds are fetched afresh.
  repack() {
    this.buffers.clear();
    if (this.ctx && !this.stopped) this.loadPack().catch((e) => this.fail(e));
  }

  /// Seconds of output latency: from a sample leaving the context to the speaker.
  latency() {
    return (this.ctx.outputLatency || 0) + (this.ctx.baseLatency || 0);
  }

  /// Where on the audio clock a stroke heard at `at` (server seconds) starts.
  contextTime(at) {
    const heardPerf = at * 1000 - this.offsetMs;
    const stamp = this.ctx.getOutputTimestamp ? this.ctx.getOutputTimestamp() : null;
    if (stamp && stamp.performanceTime > 0) {
      // The context's own pairing: the sample at contextTime is heard at performanceTime.
      return stamp.contextTime + (heardPerf - stamp.performanceTime) / 1000;
    }
    return this.ctx.currentTime + (heardPerf - performance.now()) / 1000 - this.latency();
  }

  /// Asks for the strokes of the next few seconds, schedules the new ones and cancels
  /// the ones steering took away (a pause, a jump, a minute less).
  async refill() {
    if (this.stopped || !this.ctx || this.offsetMs === null) return;
    const ahead = await (await this.get(`ahead?seconds=${AHEAD_SECONDS}`)).json();
    const wanted = new Set();
    for (const stroke of ahead.strokes) {
      const key = `${stroke.at.toFixed(6)} ${stroke.sound}`;
      wanted.add(key);
      if (this.scheduled.has(key)) continue;
      const buffer = this.buffers.get(stroke.sound) || await this.buffer(stroke.sound);
      this.schedule(key, stroke, buffer);
    }
    this.replace();
    for (const [key, entry] of this.scheduled) {
      const inWindow = entry.at >= ahead.now && entry.at <= ahead.until;
      // Cues are not the session's: steering never takes them away.
      if (inWindow && !entry.cue && !wanted.has(key)) {
        entry.source.stop();
        this.scheduled.delete(key);
      } else if (entry.at < ahead.now - 10) {
        this.scheduled.delete(key); // long heard
      }
    }
    this.show();
  }

  /// A cue (a stream deck's gong, an alert), from its `cue_scheduled` or `cue_played`
  /// event, whichever arrives first: scheduled like a stroke at its `clock` instant. A cue
  /// struck now is told only the sound card's latency ahead of that instant, and may
  /// arrive after it over a slow network: then it starts at once (see
  /// CUE_LATE_TOLERANCE).
  async cue(event) {
    if (this.stopped || !this.ctx || this.offsetMs === null || !this.pack) return;
    const path = `sounds/${encodeURIComponent(this.pack)}/${encodeURIComponent(event.instrument)}/${event.variant || 1}`;
    const key = `cue ${event.id}`;
    if (this.scheduled.has(key)) return;
    const buffer = this.buffers.get(path) || await this.buffer(path);
    this.schedule(key, { at: event.clock, gain: event.gain }, buffer);
    this.show();
  }

  /// Places again every stroke not yet started whose instant moved on the audio clock:
  /// after this browser's audio stalled (a busy machine, an underrun), the audio clock
  /// falls behind real time, and strokes scheduled before would sound late by the stall.
  replace() {
    const soon = this.ctx.currentTime + 0.05;
    for (const [key, entry] of this.scheduled) {
      if (!entry.buffer || entry.when <= soon) continue;
      const when = this.contextTime(entry.at);
      if (Math.abs(when - entry.when) > REPLACE_THRESHOLD) {
        entry.source.stop();
        this.scheduled.delete(key);
        this.played -= 1;
        this.replaced += 1;
        this.schedule(key, { at: entry.at, gain: entry.gain }, entry.buffer);
      }
    }
  }

  schedule(key, stroke, buffer) {
    const when = this.contextTime(stroke.at);
    const late = this.ctx.currentTime - when;
    const cue = key.startsWith("cue ");
    if (late > (cue ? CUE_LATE_TOLERANCE : LATE_TOLERANCE)) {
      this.skipped += 1;
      this.scheduled.set(key, { at: stroke.at, cue, source: { stop() {} } });
      return;
    }
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    const gain = this.ctx.createGain();
    gain.gain.value = stroke.gain;
    source.connect(gain).connect(this.master);
    if (late <= 0) source.start(when);
    // A late cue: now, from its beginning (its attack is what tells).
    else if (cue) source.start(this.ctx.currentTime);
    // A stroke slightly late: now, that far into the sound, so it stays in time.
    else source.start(this.ctx.currentTime, late);
    source.onended = () => gain.disconnect();
    this.played += 1;
    this.scheduled.set(key, { at: stroke.at, cue, source, when, buffer, gain: stroke.gain });
  }

  /// Stops for good: the link was revoked (or the page is leaving).
  stop() {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    if (this.ctx) this.ctx.close();
    this.show();
  }

  fail(error) {
    if (error instanceof LinkGone) {
      this.stop();
      this.report({ gone: true });
    }
    // Anything else (a dropped request) is tried again on the next refill.
  }

  show() {
    this.report({
      listening: Boolean(this.ctx) && !this.stopped,
      syncedMs: this.rttMs === null ? null : this.rttMs / 2,
      latencyMs: this.ctx ? this.latency() * 1000 : null,
      played: this.played,
      skipped: this.skipped,
      replaced: this.replaced,
    });
  }
}
