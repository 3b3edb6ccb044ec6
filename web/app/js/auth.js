// Sign-in, sign-up and onboarding (pick genres, optionally a few songs, and whether to
// share listening with followers) views.

import { get, post, put, qs } from './api.js';
import { h, cover, setTitle, toast } from './ui.js';
import { sharingQuestion } from './social.js';

/** Songs shown per chosen genre on the onboarding page. */
const SONGS_PER_GENRE = 6;
/** Most genres a listener may pick (the server's limit). */
const MAX_GENRES = 12;

function authCard(title, subtitle, form, footer) {
  return h('section', { class: 'auth' },
    h('div', { class: 'auth-card' },
      h('div', { class: 'brand brand-big' }, h('img', { src: '/app/icon.svg', alt: '', width: 40, height: 40 }), h('span', {}, 'Spoofify')),
      h('h1', {}, title),
      h('p', { class: 'muted' }, subtitle),
      form,
      h('p', { class: 'auth-footer' }, footer)));
}

function credentialsForm({ id, submitLabel, autocomplete, hint, onsubmit }) {
  const error = h('p', { class: 'form-error', role: 'alert', id: `${id}-error` });
  const user = h('input', { id: `${id}-username`, name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 32, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { id: `${id}-password`, name: 'password', type: 'password', autocomplete, required: true, minlength: autocomplete === 'new-password' ? 8 : 1, maxlength: 128 });
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-wide', id: `${id}-submit` }, submitLabel);
  const form = h('form', {
    id,
    novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      button.disabled = true;
      try {
        await onsubmit(user.value.trim(), pass.value);
      } catch (e) {
        error.textContent = e.message;
        pass.select();
      } finally {
        button.disabled = false;
      }
    },
  },
  h('label', { for: user.id }, 'Username'), user,
  h('label', { for: pass.id }, 'Password'), pass,
  hint ? h('p', { class: 'hint' }, hint) : null,
  error, button);
  queueMicrotask(() => user.focus());
  return form;
}

export function renderLogin(view, { onSignedIn }) {
  setTitle('Sign in');
  const form = credentialsForm({
    id: 'login',
    submitLabel: 'Sign in',
    autocomplete: 'current-password',
    onsubmit: async (username, password) => onSignedIn(await post('/api/login', { username, password })),
  });
  view.replaceChildren(authCard('Welcome back', 'Music that learns what you finish and what you skip.', form,
    ['New here? ', h('a', { href: '#/signup', id: 'to-signup' }, 'Create an account')]));
}

export function renderSignup(view, { onSignedIn }) {
  setTitle('Create an account');
  const form = credentialsForm({
    id: 'signup',
    submitLabel: 'Create account',
    autocomplete: 'new-password',
    hint: 'Username: 3–32 letters, digits, “.”, “_” or “-”. Password: at least 8 characters.',
    onsubmit: async (username, password) => onSignedIn(await post('/api/signup', { username, password })),
  });
  view.replaceChildren(authCard('Create your account', 'Pick a few genres next, and your feed starts learning from the first song.', form,
    ['Already have an account? ', h('a', { href: '#/login', id: 'to-login' }, 'Sign in')]));
}

/** Onboarding: genres (required) and a few songs (optional), then the first feed. */
export async function renderOnboarding(view, { me, onDone }) {
  setTitle('Welcome');
  const chosen = new Set(me.preferences.genres);
  const seeds = new Set(me.preferences.seed_songs);
  const songsBox = h('div', { class: 'seed-songs', id: 'seed-songs' });
  const cont = h('button', { type: 'button', class: 'btn btn-primary', id: 'onboarding-continue', disabled: chosen.size === 0 }, 'Start listening');
  const error = h('p', { class: 'form-error', role: 'alert' });
  const genreBox = h('div', { class: 'genre-picker', role: 'group', 'aria-label': 'Genres' }, h('p', { class: 'muted' }, 'Loading genres…'));
  const sharing = sharingQuestion();

  view.replaceChildren(h('section', { class: 'onboarding' },
    h('h1', {}, `Hi ${me.username}, what do you like?`),
    h('p', { class: 'muted' }, 'Pick at least one genre. Your feed starts there and learns from every song you finish or skip.'),
    genreBox,
    h('h2', {}, 'Any favourites? ', h('span', { class: 'muted small' }, '(optional)')),
    songsBox,
    h('h2', {}, 'Friends'),
    sharing.element,
    h('div', { class: 'onboarding-actions' }, error, cont)));

  let genres = [];
  try {
    genres = (await get('/api/genres')).genres;
  } catch (e) {
    genreBox.replaceChildren(h('p', { class: 'form-error' }, `Could not load genres: ${e.message}`));
    return;
  }

  const refreshSongs = async () => {
    cont.disabled = chosen.size === 0;
    const lists = await Promise.all([...chosen].map((g) =>
      get(`/api/songs${qs({ genre: g, limit: SONGS_PER_GENRE })}`).then((r) => r.songs).catch(() => [])));
    const songs = lists.flat();
    if (!songs.length) {
      songsBox.replaceChildren(h('p', { class: 'muted' }, chosen.size ? 'No songs found.' : 'Pick a genre to see some songs.'));
      return;
    }
    songsBox.replaceChildren(...songs.map((s) => h('button', {
      type: 'button',
      class: 'seed',
      'aria-pressed': String(seeds.has(s.id)),
      dataset: { songId: s.id },
      onclick: (ev) => {
        const on = !seeds.has(s.id);
        if (on) seeds.add(s.id); else seeds.delete(s.id);
        ev.currentTarget.setAttribute('aria-pressed', String(on));
      },
    }, cover(s, 'seed-cover'), h('span', { class: 'seed-title' }, s.title), h('span', { class: 'seed-artist' }, s.artist))));
  };

  genreBox.replaceChildren(...genres.map((g) => h('button', {
    type: 'button',
    class: 'genre',
    'aria-pressed': String(chosen.has(g.name)),
    dataset: { genre: g.name },
    onclick: (ev) => {
      if (chosen.has(g.name)) chosen.delete(g.name);
      else if (chosen.size < MAX_GENRES) chosen.add(g.name);
      else return toast(`Pick at most ${MAX_GENRES} genres.`);
      ev.currentTarget.setAttribute('aria-pressed', String(chosen.has(g.name)));
      refreshSongs();
    },
  }, h('span', { class: 'genre-name' }, g.name), h('span', { class: 'genre-count' }, `${g.songs} songs`))));
  refreshSongs();

  cont.addEventListener('click', async () => {
    cont.disabled = true;
    error.textContent = '';
    try {
      const updated = await put('/api/me/preferences', { genres: [...chosen], seed_songs: [...seeds].filter((id) => songsBox.querySelector(`[data-song-id="${CSS.escape(id)}"]`)) });
      await sharing.save();
      onDone(updated);
    } catch (e) {
      error.textContent = e.message;
      cont.disabled = false;
    }
  });
}
