// Apps: what a Subsonic app (Symfonium, DSub, Amperfy, Feishin, …) needs to sign in —
// the server address and username, API keys (shown once, revocable) and the app
// password (shown once; replaces the old one; revocable). Everything else about
// the app's listening is in the library and the feed, like the web app's own.

import { get, post, del } from './api.js';
import { h, iconButton, setTitle, empty, fmtAgo, toast } from './ui.js';

/** A secret shown once, with a copy button. */
function secretBox(label, value, id) {
  const copy = h('button', { type: 'button', class: 'btn', onclick: () => navigator.clipboard?.writeText(value).then(() => toast('Copied')) }, 'Copy');
  return h('div', { class: 'secret', role: 'status' },
    h('p', { class: 'small' }, `${label} — shown only now; copy it into your app:`),
    h('code', { id }, value), ' ', copy);
}

export async function renderApps(view, ctx) {
  setTitle('Apps');
  const keys = h('ul', { class: 'song-list', id: 'api-keys', 'aria-busy': 'true' });
  const keyOut = h('div', { id: 'api-key-new' });
  const pwOut = h('div', { id: 'app-password-new' });
  const name = h('input', { type: 'text', id: 'api-key-name', maxlength: '60', placeholder: 'Phone', 'aria-label': 'Key name' });

  async function refresh() {
    try {
      const { keys: list } = await get('/api/me/api-keys');
      keys.replaceChildren(...(list.length ? list.map((k) => h('li', { class: 'song-row' },
        h('span', { class: 'song-text' }, h('span', { class: 'song-title' }, k.name || 'Unnamed key'), h('span', { class: 'muted small' }, ` made ${fmtAgo(k.created_ms)}`)),
        iconButton('trash', `Revoke ${k.name || 'key'}`, async () => {
          await del(`/api/me/api-keys/${encodeURIComponent(k.id)}`);
          toast('Key revoked: apps using it are signed out');
          refresh();
        }))) : [empty('No API keys', 'Make one for each app you use.')]));
    } catch (e) {
      keys.replaceChildren(empty('Could not load your keys', e.message));
    } finally {
      keys.setAttribute('aria-busy', 'false');
    }
  }

  const makeKey = h('button', { type: 'button', class: 'btn', id: 'api-key-create', onclick: async () => {
    try {
      const k = await post('/api/me/api-keys', { name: name.value.trim() });
      keyOut.replaceChildren(secretBox('Your API key', k.key, 'api-key-value'));
      name.value = '';
      refresh();
    } catch (e) {
      toast(e.message, 'error');
    }
  } }, 'Make an API key');
  const makePw = h('button', { type: 'button', class: 'btn', id: 'app-password-create', onclick: async () => {
    try {
      const p = await post('/api/me/app-password');
      pwOut.replaceChildren(secretBox('Your app password', p.password, 'app-password-value'));
    } catch (e) {
      toast(e.message, 'error');
    }
  } }, 'Make a new app password');
  const revokePw = h('button', { type: 'button', class: 'btn', id: 'app-password-revoke', onclick: async () => {
    await del('/api/me/app-password');
    pwOut.replaceChildren();
    toast('App password revoked');
  } }, 'Revoke');

  view.replaceChildren(h('section', { class: 'page' },
    h('header', { class: 'page-head' }, h('h1', {}, 'Apps')),
    h('p', {}, 'Subsonic apps play your music with what Spoofify learned: their "similar songs", "instant mix" and random songs come from your own taste, and what you play or skip there teaches it like the web app does.'),
    h('dl', { class: 'small' },
      h('dt', {}, 'Server'), h('dd', {}, h('code', { id: 'apps-server' }, location.origin)),
      h('dt', {}, 'Username'), h('dd', {}, h('code', {}, ctx.me.username))),
    h('h2', {}, 'API keys'),
    h('p', { class: 'muted small' }, 'For apps that support OpenSubsonic API keys. Only a hash is kept; revoke a key to sign its app out.'),
    h('p', {}, name, ' ', makeKey), keyOut, keys,
    h('h2', {}, 'App password'),
    h('p', { class: 'muted small' }, 'For apps that sign in with a username and password (token auth needs it). It is not your login password; it is kept encrypted so the server can check tokens, and making a new one replaces the old.'),
    h('p', {}, makePw, ' ', revokePw), pwOut));
  await refresh();
}
