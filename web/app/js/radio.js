// Radio: "Start radio" on any song fills the player's queue from /api/radio — songs
// close to the seed by sound and by what other listeners finished, re-ranked for this
// listener — and keeps it topped up from the radio of the last song queued.

import { get, qs } from './api.js';
import { iconButton, toast } from './ui.js';

/** Songs asked for per radio request. */
export const RADIO_SIZE = 25;

/** One page of a song's radio: {items: [{song, reason}], degraded, ...}. */
export async function fetchRadio(songId, limit = RADIO_SIZE) {
  return get(`/api/radio${qs({ song: songId, limit })}`);
}

/**
 * Starts a radio from `song`: if it is the song playing now, it keeps playing and the
 * radio follows it; otherwise the seed plays first. Returns the radio's songs.
 */
export async function startRadio(ctx, song) {
  const player = ctx.player;
  let radio;
  try {
    radio = await fetchRadio(song.id);
  } catch (e) {
    toast(`Could not start a radio: ${e.message}`, 'error');
    return [];
  }
  const songs = radio.items.map((i) => i.song);
  if (!songs.length) {
    toast(`Nothing to play on a radio from “${song.title}” yet`, 'error');
    return [];
  }
  // Top-ups grow the radio from the last song queued; songs already queued are dropped
  // by the player, so nothing plays twice.
  const refill = async () => {
    const last = player.queue[player.queue.length - 1] ?? song;
    const more = await fetchRadio(last.id);
    return more.items.map((i) => i.song).filter((s) => s.id !== song.id);
  };
  if (player.current?.id === song.id) {
    player.replaceUpcoming(songs);
    player.source = `radio:${song.id}`;
    player.refill = refill;
  } else {
    player.playList([song, ...songs], 0, { source: `radio:${song.id}`, refill });
  }
  document.body.dataset.radio = song.id;
  toast(`Radio from “${song.title}”: ${songs.length} songs queued${radio.degraded ? ' (not personalised right now)' : ''}`);
  return songs;
}

/** The "Start radio" button for a song row or card. */
export function radioButton(ctx, song) {
  const b = iconButton('radio', `Start radio from ${song.title}`, () => startRadio(ctx, song));
  b.dataset.action = 'radio';
  return b;
}
