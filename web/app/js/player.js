// The player: one <audio> element, a queue of songs, and what the listener does with them.
//
// - Finished (the 'ended' event), skipped (next, previous or another song before the
//   end, with the position reached) and like/dislike go to the outbox, which keeps them
//   until the node acknowledges them.
// - The next songs are fetched whole ahead of time (PREFETCH_AHEAD) and played from
//   memory, so listening goes on while a node dies and another takes over; the queue is
//   topped up from its source (the feed) before it runs dry.
// - Quality is low / normal / high, or auto: the best whose bitrate fits several times
//   into the throughput measured while prefetching.

import { fmtTime, toast } from './ui.js';

export const QUALITIES = ['low', 'normal', 'high'];
/** Rough bitrates of the renditions (kbit/s), to decide what auto can sustain. */
const KBPS = { low: 64, normal: 128, high: 256 };
/** Auto wants this much headroom: measured throughput >= bitrate × HEADROOM. */
const HEADROOM = 4;
/** Songs after the current one fetched whole ahead of time. */
const PREFETCH_AHEAD = 2;
/** Below this many upcoming songs, the queue asks its source for more. */
const REFILL_BELOW = 3;
/** 'Previous' later than this into a song restarts it instead of going back. */
const RESTART_AFTER_S = 3;
/** A stream that fails (node gone, failover under way) is retried this often, backing off. */
const MAX_STREAM_RETRIES = 4;
/** Volume before the listener has chosen one. */
const DEFAULT_VOLUME = 0.8;
/** Prefetches smaller than this say little about throughput and are not measured. */
const MIN_MEASURE_BYTES = 32 * 1024;

export class Player extends EventTarget {
  constructor(outbox) {
    super();
    this.outbox = outbox;
    this.audio = new Audio();
    this.audio.preload = 'auto';
    this.queue = [];
    this.index = -1;
    this.source = '';
    this.searched = null; // the song picked from a search, until it ends
    this.refill = null; // async () => more songs, or null
    this.started = false; // the current song has begun playing
    this.done = false; // the current song was finished or skipped (recorded)
    this.retries = 0;
    this.prefetched = new Map(); // song id -> { url, promise, ctl, quality }
    this.throughputKbps = null;
    this.quality = localStorage.getItem('spoofify.quality') || 'auto';
    const saved = localStorage.getItem('spoofify.volume');
    const vol = saved === null ? NaN : Number(saved);
    this.audio.volume = vol >= 0 && vol <= 1 ? vol : DEFAULT_VOLUME;
    this.#wireAudio();
    this.#wireMediaSession();
  }

  get current() {
    return this.queue[this.index] ?? null;
  }

  get upcoming() {
    return this.queue.slice(this.index + 1);
  }

  get positionMs() {
    return Math.round((this.audio.currentTime || 0) * 1000);
  }

  get durationMs() {
    const d = this.audio.duration;
    return Number.isFinite(d) && d > 0 ? d * 1000 : (this.current?.duration_ms ?? 0);
  }

  get playing() {
    return !this.audio.paused && !this.audio.ended;
  }

  /** Plays `songs` starting at `start`; `refill` tops the queue up when it runs low. */
  playList(songs, start = 0, { source = '', refill = null } = {}) {
    this.#leave();
    this.queue = songs.slice();
    this.index = Math.min(Math.max(0, start), this.queue.length - 1);
    this.source = source;
    // The song the listener picked from a search: finishing it is a search that
    // ended in a play (a stronger signal than a finish from the feed).
    this.searched = source === 'search' ? this.queue[this.index]?.id ?? null : null;
    this.refill = refill;
    this.#load();
  }

  /** Replaces what comes after the current song (e.g. a refreshed feed). */
  replaceUpcoming(songs) {
    const cur = this.current;
    this.queue = cur ? [cur, ...songs.filter((s) => s.id !== cur.id)] : songs.slice();
    this.index = cur ? 0 : -1;
    this.#emit('queue');
    this.#prefetch();
  }

  toggle() {
    if (!this.current) return;
    if (this.audio.paused) this.audio.play().catch((e) => this.#playFailed(e));
    else this.audio.pause();
  }

  async next() {
    if (!this.current) return;
    this.#leave();
    await this.#advance();
  }

  previous() {
    if (!this.current) return;
    if (this.audio.currentTime > RESTART_AFTER_S || this.index === 0) {
      this.seek(0);
      return;
    }
    this.#leave();
    this.index -= 1;
    this.#load();
  }

  /** Jumps to another song of the queue. */
  playAt(i) {
    if (i < 0 || i >= this.queue.length || i === this.index) return;
    this.#leave();
    this.index = i;
    this.#load();
  }

  seek(seconds) {
    if (!this.current) return;
    const d = this.durationMs / 1000;
    this.audio.currentTime = Math.max(0, Math.min(seconds, d || seconds));
  }

  setVolume(v) {
    this.audio.volume = Math.max(0, Math.min(1, v));
    this.audio.muted = false;
    localStorage.setItem('spoofify.volume', String(this.audio.volume));
  }

  toggleMute() {
    this.audio.muted = !this.audio.muted;
    this.#emit('volume');
  }

  setQuality(q) {
    this.quality = q === 'auto' || QUALITIES.includes(q) ? q : 'auto';
    localStorage.setItem('spoofify.quality', this.quality);
    this.#emit('quality');
  }

  /** The quality the next request will use. */
  get effectiveQuality() {
    if (this.quality !== 'auto') return this.quality;
    if (this.throughputKbps === null) return 'normal';
    const fits = QUALITIES.filter((q) => KBPS[q] * HEADROOM <= this.throughputKbps);
    return fits.length ? fits[fits.length - 1] : 'low';
  }

  /** Records a like or dislike of the current song. */
  rate(kind) {
    const s = this.current;
    if (!s) return;
    this.outbox.record(s.id, kind, this.positionMs);
    this.#emit('rated', { kind, song: s });
    toast(kind === 'liked' ? `Liked “${s.title}”` : `Noted: less like “${s.title}”`);
  }

  stop() {
    this.#leave();
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
    this.queue = [];
    this.index = -1;
    for (const p of this.prefetched.values()) this.#drop(p);
    this.prefetched.clear();
    this.#emit('song');
  }

  // ---- internals ----------------------------------------------------------------

  /** Records a skip if the current song is being left before its end. */
  #leave() {
    const s = this.current;
    if (s && this.started && !this.done) {
      this.done = true;
      this.outbox.record(s.id, 'skipped', this.positionMs);
    }
  }

  async #advance() {
    if (this.upcoming.length < REFILL_BELOW) await this.#topUp();
    if (this.index + 1 >= this.queue.length) {
      this.audio.pause();
      this.#emit('state');
      toast('That was the last song in the queue.');
      return;
    }
    this.index += 1;
    this.#load();
  }

  async #topUp() {
    if (!this.refill) return;
    try {
      const more = await this.refill();
      const have = new Set(this.queue.slice(this.index).map((s) => s.id));
      const fresh = (more || []).filter((s) => !have.has(s.id));
      if (fresh.length) {
        this.queue.push(...fresh);
        this.#emit('queue');
      }
    } catch (e) {
      console.warn('could not top up the queue', e);
    }
  }

  #load() {
    const s = this.current;
    if (!s) return;
    this.started = false;
    this.done = false;
    this.retries = 0;
    const pre = this.prefetched.get(s.id);
    this.audio.src = pre?.url ?? this.#streamUrl(s);
    this.audio.play().catch((e) => this.#playFailed(e));
    this.#forgetOld();
    this.#emit('song');
    this.#emit('queue');
    this.#updateMediaSession();
    if (this.upcoming.length < REFILL_BELOW) this.#topUp().then(() => this.#prefetch());
  }

  #streamUrl(s) {
    return `/stream/${encodeURIComponent(s.id)}?quality=${this.effectiveQuality}`;
  }

  #playFailed(e) {
    if (e?.name === 'NotAllowedError') {
      toast('Press play to start listening.');
      this.#emit('state');
    } else if (e?.name !== 'AbortError') {
      console.warn('play failed', e);
    }
  }

  /** Fetches the next songs whole, measuring throughput on the way. */
  #prefetch() {
    for (const s of this.queue.slice(this.index + 1, this.index + 1 + PREFETCH_AHEAD)) {
      if (this.prefetched.has(s.id)) continue;
      const ctl = new AbortController();
      const entry = { url: null, ctl, quality: this.effectiveQuality };
      const started = performance.now();
      entry.promise = fetch(this.#streamUrl(s), { credentials: 'same-origin', signal: ctl.signal })
        .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`HTTP ${r.status}`))))
        .then((blob) => {
          const ms = performance.now() - started;
          if (blob.size >= MIN_MEASURE_BYTES && ms > 0) this.#measured((blob.size * 8) / ms);
          entry.url = URL.createObjectURL(blob);
        })
        .catch(() => this.prefetched.delete(s.id));
      this.prefetched.set(s.id, entry);
    }
  }

  #measured(kbps) {
    this.throughputKbps = this.throughputKbps === null ? kbps : 0.5 * this.throughputKbps + 0.5 * kbps;
    this.#emit('quality');
  }

  /** Drops prefetched songs that are no longer current or ahead. */
  #forgetOld() {
    const keep = new Set(this.queue.slice(this.index, this.index + 1 + PREFETCH_AHEAD).map((s) => s.id));
    for (const [id, p] of this.prefetched) {
      if (!keep.has(id)) {
        this.#drop(p);
        this.prefetched.delete(id);
      }
    }
  }

  #drop(p) {
    p.ctl.abort();
    if (p.url) URL.revokeObjectURL(p.url);
  }

  #wireAudio() {
    const a = this.audio;
    a.addEventListener('playing', () => {
      this.started = true;
      this.retries = 0;
      this.#prefetch();
      this.#emit('state');
    });
    a.addEventListener('pause', () => this.#emit('state'));
    a.addEventListener('play', () => this.#emit('state'));
    a.addEventListener('timeupdate', () => this.#emit('time'));
    a.addEventListener('durationchange', () => this.#emit('time'));
    a.addEventListener('volumechange', () => this.#emit('volume'));
    a.addEventListener('ended', () => {
      const s = this.current;
      if (s && !this.done) {
        this.done = true;
        const from = s.id === this.searched ? 'search' : undefined;
        this.searched = null;
        this.outbox.record(s.id, 'finished', this.durationMs, from);
      }
      this.#advance();
    });
    a.addEventListener('error', () => this.#streamFailed());
  }

  /** A stream broke (node gone?): retry at the same spot with backoff, then move on. */
  #streamFailed() {
    const s = this.current;
    if (!s) return;
    if (this.retries >= MAX_STREAM_RETRIES) {
      toast(`Could not play “${s.title}”; moving on.`, 'error');
      this.done = true; // not the listener's choice: not a skip
      this.#advance();
      return;
    }
    const at = this.audio.currentTime;
    const delay = 500 * 2 ** this.retries;
    this.retries += 1;
    setTimeout(() => {
      if (this.current !== s) return;
      this.audio.src = this.#streamUrl(s);
      this.audio.currentTime = at;
      this.audio.play().catch((e) => this.#playFailed(e));
    }, delay);
  }

  #wireMediaSession() {
    const ms = navigator.mediaSession;
    if (!ms) return;
    const set = (action, fn) => {
      try {
        ms.setActionHandler(action, fn);
      } catch {
        /* unsupported action */
      }
    };
    set('play', () => this.toggle());
    set('pause', () => this.toggle());
    set('nexttrack', () => this.next());
    set('previoustrack', () => this.previous());
    set('seekto', (d) => this.seek(d.seekTime));
  }

  #updateMediaSession() {
    const s = this.current;
    if (!navigator.mediaSession || !s || typeof MediaMetadata === 'undefined') return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: s.title,
      artist: s.artist,
      album: s.album,
      artwork: [{ src: `/art/${encodeURIComponent(s.id)}`, type: 'image/svg+xml' }],
    });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** "1:02 / 3:30" for screen readers and tooltips. */
  get timeText() {
    return `${fmtTime(this.positionMs)} / ${fmtTime(this.durationMs)}`;
  }
}
