// Playlists: the list (with a "new playlist" form), one playlist (play, rename,
// make public or private, reorder, remove songs, delete), and the "add to playlist"
// dialog used everywhere. A playlist is private until made public; public ones are
// listed on the owner's profile.

import { get, post, patch, put, del } from './api.js';
import { h, icon, iconButton, songRow, setTitle, empty, toast, fmtAgo, fmtTime } from './ui.js';
import { radioButton } from './radio.js';

export async function renderPlaylists(view, ctx) {
  setTitle('Playlists');
  const name = h('input', { id: 'new-playlist-name', placeholder: 'New playlist name', maxlength: 100, required: true, 'aria-label': 'New playlist name' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const list = h('ul', { class: 'playlist-list', id: 'playlists' });
  const form = h('form', {
    class: 'inline-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      try {
        const p = await post('/api/playlists', { name: name.value });
        location.hash = `#/playlists/${p.id}`;
      } catch (e) {
        error.textContent = e.message;
      }
    },
  }, name, h('button', { type: 'submit', class: 'btn btn-primary', id: 'create-playlist' }, icon('plus'), 'Create'));
  view.replaceChildren(h('section', { class: 'page' },
    h('header', { class: 'page-head' }, h('h1', {}, 'Your playlists')),
    form, error, list));
  try {
    const { playlists } = await get('/api/playlists');
    if (!playlists.length) {
      list.replaceChildren(empty('No playlists yet', 'Name one above, then add songs from your feed or search with the + button.'));
      return;
    }
    list.replaceChildren(...playlists.map((p) => h('li', {},
      h('a', { href: `#/playlists/${p.id}`, class: 'playlist-link', dataset: { playlistId: p.id } },
        h('span', { class: 'playlist-art' }, icon('list')),
        h('span', { class: 'row-text' },
          h('span', { class: 'row-title' }, p.name),
          h('span', { class: 'row-sub' }, `${p.song_count} song${p.song_count === 1 ? '' : 's'} · ${p.public ? 'public' : 'private'} · updated ${fmtAgo(p.updated_ms)}`))))));
  } catch (e) {
    list.replaceChildren(empty('Could not load playlists', e.message));
  }
}

export async function renderPlaylist(view, ctx, id) {
  setTitle('Playlist');
  let p;
  try {
    p = await get(`/api/playlists/${encodeURIComponent(id)}`);
  } catch (e) {
    view.replaceChildren(h('section', { class: 'page' }, empty(e.status === 404 ? 'Playlist not found' : 'Could not load the playlist', e.message,
      h('a', { href: '#/playlists', class: 'btn' }, 'All playlists'))));
    return;
  }
  const title = h('h1', { id: 'playlist-title' }, p.name);
  const list = h('ol', { class: 'song-list', id: 'playlist-songs' });
  const summary = h('p', { class: 'muted' });
  const playBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'play-playlist' }, icon('play'), 'Play');
  const renameBtn = h('button', { type: 'button', class: 'btn', id: 'rename-playlist' }, 'Rename');
  const deleteBtn = h('button', { type: 'button', class: 'btn btn-danger', id: 'delete-playlist' }, icon('trash'), 'Delete');
  const publicBox = h('input', { type: 'checkbox', id: 'playlist-public' });
  const publicToggle = h('label', { class: 'toggle', title: 'Public playlists are listed on your profile' }, publicBox, ' Public');
  view.replaceChildren(h('section', { class: 'page' },
    h('a', { href: '#/playlists', class: 'back' }, '← Playlists'),
    h('header', { class: 'page-head' },
      h('div', {}, title, summary),
      h('div', { class: 'page-actions' }, playBtn, renameBtn, publicToggle, deleteBtn)),
    list));

  const songs = () => p.songs.filter((e) => e.song).map((e) => e.song);
  const apply = (updated) => {
    p = updated;
    draw();
  };
  const edit = async (fn) => {
    try {
      apply(await fn());
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  const move = (i, by) => {
    const order = p.songs.map((e) => e.song_id);
    const [x] = order.splice(i, 1);
    order.splice(i + by, 0, x);
    edit(() => put(`/api/playlists/${p.id}/songs`, { songs: order })).then(() =>
      list.querySelectorAll('.song-row')[i + by]?.querySelector(by < 0 ? '[data-move="up"]' : '[data-move="down"]')?.focus());
  };
  const draw = () => {
    title.textContent = p.name;
    setTitle(p.name);
    publicBox.checked = p.public;
    const total = songs().reduce((t, s) => t + s.duration_ms, 0);
    summary.textContent = `${p.songs.length} song${p.songs.length === 1 ? '' : 's'} · ${fmtTime(total)}`;
    playBtn.disabled = songs().length === 0;
    if (!p.songs.length) {
      list.replaceChildren(empty('This playlist is empty', 'Add songs from your feed or from search with the + button.',
        h('a', { href: '#/search', class: 'btn' }, icon('search'), 'Search')));
      return;
    }
    list.replaceChildren(...p.songs.map((e, i) => {
      const s = e.song ?? { id: e.song_id, title: 'Unavailable song', artist: '—', album: '—', genre: '—', duration_ms: 0 };
      const up = iconButton('up', `Move ${s.title} up`, () => move(i, -1));
      const down = iconButton('downArrow', `Move ${s.title} down`, () => move(i, 1));
      up.dataset.move = 'up';
      down.dataset.move = 'down';
      up.disabled = i === 0;
      down.disabled = i === p.songs.length - 1;
      return songRow(s, {
        index: i,
        playing: ctx.player.current?.id === s.id && ctx.player.source === `playlist:${p.id}`,
        onplay: () => {
          if (!e.song) return;
          const playable = songs();
          ctx.player.playList(playable, playable.indexOf(e.song), { source: `playlist:${p.id}` });
        },
        actions: [up, down, e.song ? radioButton(ctx, e.song) : null, iconButton('close', `Remove ${s.title} from this playlist`, () =>
          edit(() => del(`/api/playlists/${p.id}/songs/${i}`)))],
      });
    }));
  };
  publicBox.addEventListener('change', async () => {
    const want = publicBox.checked;
    await edit(() => patch(`/api/playlists/${p.id}`, { public: want }));
    publicBox.checked = p.public;
    if (p.public === want) toast(want ? 'Public: listed on your profile.' : 'Private: only you see it.');
  });
  playBtn.addEventListener('click', () => ctx.player.playList(songs(), 0, { source: `playlist:${p.id}` }));
  renameBtn.addEventListener('click', () => {
    const input = h('input', { value: p.name, maxlength: 100, id: 'rename-input', 'aria-label': 'Playlist name' });
    let finished = false; // Enter, Escape and blur may all fire; act once
    const done = async (save) => {
      if (finished) return;
      finished = true;
      if (save && input.value.trim() && input.value.trim() !== p.name) {
        await edit(() => patch(`/api/playlists/${p.id}`, { name: input.value }));
      }
      input.replaceWith(title);
      renameBtn.focus();
    };
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') done(true);
      if (ev.key === 'Escape') done(false);
    });
    input.addEventListener('blur', () => done(true), { once: true });
    title.replaceWith(input);
    input.select();
  });
  deleteBtn.addEventListener('click', async () => {
    if (!(await confirmDialog(`Delete “${p.name}”?`, 'This cannot be undone.', 'Delete'))) return;
    try {
      await del(`/api/playlists/${p.id}`);
      toast(`Deleted “${p.name}”`);
      location.hash = '#/playlists';
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  draw();
}

/** A modal asking yes/no; resolves true when confirmed. */
export function confirmDialog(title, text, confirmLabel) {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'button', class: 'btn btn-danger', id: 'confirm-yes' }, confirmLabel);
    const no = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const dlg = h('dialog', { class: 'dialog' }, h('h2', {}, title), h('p', { class: 'muted' }, text), h('div', { class: 'dialog-actions' }, no, yes));
    const close = (v) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    yes.addEventListener('click', () => close(true));
    no.addEventListener('click', () => close(false));
    dlg.addEventListener('cancel', () => close(false));
    document.body.append(dlg);
    dlg.showModal();
    no.focus();
  });
}

/** Lets the listener pick a playlist (or make one) and adds the song to it. */
export async function addToPlaylist(song) {
  let playlists = [];
  try {
    playlists = (await get('/api/playlists')).playlists;
  } catch (e) {
    toast(e.message, 'error');
    return;
  }
  const dlg = h('dialog', { class: 'dialog', id: 'add-to-playlist', 'aria-label': 'Add to playlist' });
  const close = () => {
    dlg.close();
    dlg.remove();
  };
  const add = async (p) => {
    try {
      await post(`/api/playlists/${p.id}/songs`, { song_id: song.id });
      toast(`Added to “${p.name}”`);
      close();
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  const name = h('input', { placeholder: 'New playlist', maxlength: 100, 'aria-label': 'New playlist name', id: 'dialog-new-playlist' });
  const form = h('form', {
    class: 'inline-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const p = await post('/api/playlists', { name: name.value, songs: [song.id] });
        toast(`Added to “${p.name}”`);
        close();
      } catch (e) {
        toast(e.message, 'error');
      }
    },
  }, name, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create'));
  dlg.append(
    h('h2', {}, 'Add to playlist'),
    h('p', { class: 'muted' }, `${song.title} · ${song.artist}`),
    h('ul', { class: 'dialog-list' }, playlists.map((p) => h('li', {},
      h('button', { type: 'button', class: 'dialog-item', dataset: { playlistId: p.id }, onclick: () => add(p) }, icon('list'), p.name,
        h('span', { class: 'muted small' }, ` · ${p.song_count}`))))),
    form,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', onclick: close }, 'Close')));
  dlg.addEventListener('cancel', close);
  document.body.append(dlg);
  dlg.showModal();
  (dlg.querySelector('.dialog-item') || name).focus();
}
