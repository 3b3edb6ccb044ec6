// The interaction outbox: every finished, skipped, liked or disliked song is queued here
// (a finish of a song picked from a search says so: `source: 'search'`)
// with a client-made id, persisted in localStorage, and sent to the node in order until
// the node acknowledges it (2xx means durable). Resending an id is harmless (the node
// answers duplicate: true), so a retry after a lost answer, a reload or a node's death
// never double-counts. Entries the node rejects as invalid (4xx other than 401/408/429)
// would never succeed and are dropped.

import { post } from './api.js';
import { uuid } from './ui.js';

/** First retry delay after a failure; doubles up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;
/** Oldest entries are dropped past this many, so localStorage cannot fill up. */
const MAX_QUEUED = 2000;

export class Outbox extends EventTarget {
  constructor(username) {
    super();
    this.key = `spoofify.outbox.${username}`;
    this.items = this.#load();
    this.backoff = FIRST_BACKOFF_MS;
    this.timer = null;
    this.flushing = false;
    this.lastError = null;
    this.acked = 0;
    this.onOnline = () => this.flush();
    window.addEventListener('online', this.onOnline);
  }

  /** Queues an interaction and tries to send it; returns its id. */
  record(songId, kind, positionMs, source) {
    const item = {
      id: uuid(),
      song_id: songId,
      kind,
      position_ms: Math.max(0, Math.round(positionMs || 0)),
      queued_at: Date.now(),
    };
    if (source) item.source = source;
    this.items.push(item);
    if (this.items.length > MAX_QUEUED) this.items.splice(0, this.items.length - MAX_QUEUED);
    this.#save();
    this.#changed();
    this.flush();
    return item.id;
  }

  get pending() {
    return this.items.length;
  }

  /** Sends queued entries oldest first; on a retryable failure, schedules a retry. */
  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    clearTimeout(this.timer);
    this.timer = null;
    try {
      while (this.items.length) {
        const it = this.items[0];
        try {
          const body = { id: it.id, song_id: it.song_id, kind: it.kind, position_ms: it.position_ms };
          if (it.source) body.source = it.source;
          await post('/api/interactions', body);
          this.acked += 1;
          this.lastError = null;
          this.backoff = FIRST_BACKOFF_MS;
        } catch (e) {
          if (!e.retryable && e.status !== 401) {
            console.warn('interaction rejected, dropped', it, e.message);
          } else {
            this.lastError = e;
            this.#retryLater();
            return;
          }
        }
        this.items.shift();
        this.#save();
        this.#changed();
      }
    } finally {
      this.flushing = false;
      this.#changed();
    }
  }

  /**
   * Sign-out: sends what it can (one pass, no retries), then forgets this user's queue,
   * so nothing of their listening stays in this browser's storage. Returns how many
   * entries could not be sent (and are dropped).
   */
  async forget() {
    this.close();
    await this.flush();
    clearTimeout(this.timer);
    const dropped = this.items.length;
    this.items = [];
    try {
      localStorage.removeItem(this.key);
    } catch (e) {
      console.warn('could not clear the outbox', e);
    }
    this.#changed();
    return dropped;
  }

  /** Stops retrying (the session ended); queued entries stay saved for this user's next visit. */
  close() {
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
  }

  #retryLater() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }

  #changed() {
    this.dispatchEvent(new Event('change'));
  }

  #load() {
    try {
      const v = JSON.parse(localStorage.getItem(this.key) || '[]');
      return Array.isArray(v) ? v : [];
    } catch {
      return [];
    }
  }

  #save() {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.items));
    } catch (e) {
      console.warn('could not persist the outbox', e);
    }
  }
}
