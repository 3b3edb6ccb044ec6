// The library: songs the listener liked, and their listening history (finished, skipped,
// liked, disliked), both read from the listener's interaction log on the node.

import { get, qs } from './api.js';
import { h, iconButton, songRow, setTitle, empty, fmtAgo, fmtTime } from './ui.js';
import { addToPlaylist } from './playlists.js';

const HISTORY = 100;

const KIND_LABEL = {
  finished: 'Finished',
  skipped: 'Skipped',
  liked: 'Liked',
  disliked: 'Disliked',
};

export async function renderLibrary(view, ctx, params) {
  setTitle('Library');
  const tab = params.get('tab') === 'history' ? 'history' : 'likes';
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Library' },
    h('a', { href: '#/library', class: 'tab', id: 'tab-likes', 'aria-current': tab === 'likes' ? 'page' : false }, 'Liked songs'),
    h('a', { href: '#/library?tab=history', class: 'tab', id: 'tab-history', 'aria-current': tab === 'history' ? 'page' : false }, 'History'));
  const list = h('ol', { class: 'song-list', id: tab === 'likes' ? 'likes' : 'history', 'aria-busy': 'true' });
  const pending = ctx.outbox.pending;
  view.replaceChildren(h('section', { class: 'page' },
    h('header', { class: 'page-head' }, h('h1', {}, 'Your library')),
    tabs,
    pending ? h('p', { class: 'muted small' }, `${pending} recent action${pending === 1 ? '' : 's'} still on the way to the server.`) : null,
    list));
  try {
    if (tab === 'likes') {
      const { songs } = await get('/api/likes');
      const all = songs.map((l) => l.song);
      list.replaceChildren(...(songs.length ? songs.map((l, i) => songRow(l.song, {
        onplay: () => ctx.player.playList(all, i, { source: 'likes' }),
        meta: fmtAgo(l.liked_ms),
        actions: [iconButton('plus', `Add ${l.song.title} to a playlist`, () => addToPlaylist(l.song))],
      })) : [empty('No liked songs yet', 'Press the heart in the player (or L) on songs you love.')]));
    } else {
      const { items } = await get(`/api/history${qs({ limit: HISTORY })}`);
      list.replaceChildren(...(items.length ? items.map((it) => {
        const label = it.kind === 'skipped' ? `Skipped at ${fmtTime(it.position_ms)}` : KIND_LABEL[it.kind] ?? it.kind;
        return songRow(it.song, {
          onplay: () => ctx.player.playList([it.song], 0, { source: 'history' }),
          meta: h('span', {}, h('span', { class: `badge badge-${it.kind}` }, label), ' ', fmtAgo(it.at_ms)),
        });
      }) : [empty('Nothing played yet', 'Songs you finish or skip show up here.')]));
    }
  } catch (e) {
    list.replaceChildren(empty('Could not load your library', e.message));
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}
