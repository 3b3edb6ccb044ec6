// Search as you type over title, artist, album and genre. Each keystroke (debounced)
// cancels the previous request, so results never arrive out of order.

import { get, qs } from './api.js';
import { h, icon, iconButton, songRow, setTitle, empty } from './ui.js';
import { addToPlaylist } from './playlists.js';
import { radioButton } from './radio.js';
import { peopleSection } from './social.js';

/** Wait this long after the last keystroke before asking the server. */
const DEBOUNCE_MS = 120;
const RESULTS = 50;

export function renderSearch(view, ctx, params) {
  setTitle('Search');
  const input = h('input', {
    type: 'search', id: 'search-input', placeholder: 'Songs, artists, albums, genres, people', autocomplete: 'off',
    'aria-label': 'Search', value: params.get('q') || '', spellcheck: 'false',
  });
  const list = h('ol', { class: 'song-list', id: 'search-results', 'aria-live': 'polite' });
  const summary = h('p', { class: 'muted', id: 'search-summary' });
  const people = h('div', { id: 'search-people-box' });
  view.replaceChildren(h('section', { class: 'page' },
    h('header', { class: 'page-head' }, h('h1', {}, 'Search')),
    h('div', { class: 'search-box' }, icon('search'), input),
    people, summary, list));

  let timer = null;
  let inflight = null;
  const run = async () => {
    const q = input.value.trim();
    history.replaceState(null, '', `#/search${q ? qs({ q }) : ''}`);
    inflight?.abort();
    if (!q) {
      summary.textContent = '';
      people.replaceChildren();
      list.replaceChildren(empty('Find something to play', 'Type a title, an artist, an album or a genre.'));
      return;
    }
    const ctl = new AbortController();
    inflight = ctl;
    try {
      const r = await get(`/api/search${qs({ q, limit: RESULTS })}`, { signal: ctl.signal });
      if (ctl.signal.aborted) return;
      people.replaceChildren(...[peopleSection(r.people)].filter(Boolean));
      summary.textContent = r.total === 0 ? `No results for “${q}”` : `${r.total} result${r.total === 1 ? '' : 's'} for “${q}”`;
      const play = (i) => ctx.player.playList(r.songs, i, { source: 'search' });
      list.replaceChildren(...r.songs.map((s, i) => songRow(s, {
        onplay: () => play(i),
        playing: ctx.player.current?.id === s.id,
        actions: [iconButton('plus', `Add ${s.title} to a playlist`, () => addToPlaylist(s)), radioButton(ctx, s)],
      })));
    } catch (e) {
      if (e.name === 'AbortError' || ctl.signal.aborted) return;
      summary.textContent = `Search failed: ${e.message}`;
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown') {
      ev.preventDefault();
      list.querySelector('.row-play')?.focus();
    } else if (ev.key === 'Enter') {
      ev.preventDefault();
      list.querySelector('.row-play')?.click();
    }
  });
  list.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
    const buttons = [...list.querySelectorAll('.row-play')];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    ev.preventDefault();
    if (ev.key === 'ArrowUp' && i === 0) input.focus();
    else buttons[Math.max(0, Math.min(buttons.length - 1, i + (ev.key === 'ArrowDown' ? 1 : -1)))].focus();
  });
  view.cleanup = () => {
    clearTimeout(timer);
    inflight?.abort();
  };
  run();
  input.focus();
}
