// The home page: the listener's feed (cover, title, artist, genre, why it was chosen),
// a refresh button, and playing from any card. The feed also refills the player's queue.

import { get, qs } from './api.js';
import { h, icon, iconButton, cover, genreChip, setTitle, empty, toast } from './ui.js';
import { addToPlaylist } from './playlists.js';
import { radioButton } from './radio.js';

/** Songs asked for per feed page. */
export const FEED_SIZE = 24;

/** The feed's songs, for the player's refill. */
export async function fetchFeed(limit = FEED_SIZE) {
  return get(`/api/feed${qs({ limit })}`);
}

function greeting() {
  const hr = new Date().getHours();
  return hr < 5 ? 'Up late' : hr < 12 ? 'Good morning' : hr < 18 ? 'Good afternoon' : 'Good evening';
}

export async function renderFeed(view, ctx) {
  setTitle('Home');
  const grid = h('div', { class: 'card-grid', id: 'feed', 'aria-live': 'polite', 'aria-busy': 'true' });
  const status = h('p', { class: 'feed-status muted', id: 'feed-status' });
  const refresh = h('button', { type: 'button', class: 'btn', id: 'refresh-feed', title: 'Refresh (R)' }, icon('refresh'), 'Refresh');
  const playAll = h('button', { type: 'button', class: 'btn btn-primary', id: 'play-feed', disabled: true }, icon('play'), 'Play');
  view.replaceChildren(h('section', { class: 'page' },
    h('header', { class: 'page-head' },
      h('div', {}, h('h1', {}, `${greeting()}, ${ctx.me.username}`), status),
      h('div', { class: 'page-actions' }, playAll, refresh)),
    grid));

  const draw = (feed) => {
    const songs = feed.items.map((i) => i.song);
    grid.setAttribute('aria-busy', 'false');
    grid.dataset.songs = songs.map((s) => s.id).join(',');
    playAll.disabled = songs.length === 0;
    status.textContent = `${feed.degraded ? 'Popular picks while your taste model catches up' : 'Picked for you'} · served by ${feed.served_by}`;
    status.classList.toggle('degraded', !!feed.degraded);
    if (!songs.length) {
      grid.replaceChildren(empty('Nothing here yet', 'The catalog may still be loading. Try refreshing in a moment.'));
      return;
    }
    const play = (i) => ctx.player.playList(songs, i, { source: 'feed', refill: () => fetchFeed().then((f) => f.items.map((x) => x.song)) });
    playAll.onclick = () => play(0);
    grid.replaceChildren(...feed.items.map((item, i) => card(item, () => play(i), ctx)));
    markPlaying(grid, ctx.player.current?.id);
  };

  const load = async (announce) => {
    refresh.disabled = true;
    grid.setAttribute('aria-busy', 'true');
    try {
      const feed = await fetchFeed();
      ctx.feed = feed;
      draw(feed);
      if (ctx.player.source === 'feed') ctx.player.replaceUpcoming(feed.items.map((i) => i.song));
      if (announce) toast('Feed refreshed');
    } catch (e) {
      if (!ctx.feed) grid.replaceChildren(empty('Could not load your feed', e.message));
      else toast(`Could not refresh: ${e.message}`, 'error');
    } finally {
      refresh.disabled = false;
    }
  };

  refresh.addEventListener('click', () => load(true));
  view.refreshFeed = () => load(true);
  // The player this view listens to; ctx.player is cleared on sign-out, before cleanup runs.
  const player = ctx.player;
  const onSong = () => markPlaying(grid, player.current?.id);
  player.addEventListener('song', onSong);
  view.cleanup = () => player.removeEventListener('song', onSong);
  if (ctx.feed) draw(ctx.feed);
  await load(false);
}

function card(item, onplay, ctx) {
  const s = item.song;
  return h('article', { class: 'card', dataset: { songId: s.id } },
    h('button', { type: 'button', class: 'card-play', onclick: onplay, 'aria-label': `Play ${s.title} by ${s.artist}` },
      cover(s),
      h('span', { class: 'card-overlay' }, icon('play'))),
    h('div', { class: 'card-body' },
      h('h3', { class: 'card-title', title: s.title }, s.title),
      h('p', { class: 'card-artist' }, s.artist),
      h('div', { class: 'card-meta' }, genreChip(s.genre)),
      h('p', { class: 'card-reason' }, item.reason)),
    h('div', { class: 'card-actions' },
      iconButton('plus', `Add ${s.title} to a playlist`, () => addToPlaylist(s)),
      radioButton(ctx, s)));
}

function markPlaying(grid, id) {
  for (const c of grid.querySelectorAll('.card')) c.classList.toggle('playing', c.dataset.songId === id);
}
