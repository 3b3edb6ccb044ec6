// Social listening: profile pages (follow, block, public playlists), the settings page
// (display name, privacy, blocked people), the friend-activity sidebar fed live by
// server-sent events, and the "now playing" signal the player sends. The server decides what is shared; this only shows it.

import { get, put, del, post, qs } from './api.js';
import { h, cover, setTitle, empty, fmtAgo, toast } from './ui.js';

const KIND_LABEL = { playing: 'is playing', finished: 'finished', liked: 'liked' };
/** Entries the sidebar keeps. */
const SIDEBAR_ITEMS = 30;

// ---- the friend-activity sidebar ---------------------------------------------------

/**
 * The sidebar: loads the latest friend activity, then listens on the live stream.
 * EventSource reconnects by itself (to any node) and resumes after the last event id.
 */
export class FriendActivity {
  constructor(root) {
    this.root = root;
    this.list = h('ol', { class: 'friend-list', id: 'friend-activity', 'aria-live': 'polite' });
    this.source = null;
    this.seen = new Set();
    root.replaceChildren(
      h('h2', { class: 'friends-title' }, 'Friend activity'),
      this.list);
    root.hidden = false;
  }

  async start() {
    let newest = Date.now();
    try {
      const r = await get(`/api/activity${qs({ limit: SIDEBAR_ITEMS })}`);
      for (const item of [...r.items].reverse()) this.#add(item);
      if (r.items.length) newest = r.items[0].at_ms;
    } catch (e) {
      console.warn('could not load friend activity', e);
    }
    this.#drawEmpty();
    if (this.closed) return;
    this.source = new EventSource(`/api/activity/stream${qs({ after: newest })}`);
    this.source.addEventListener('activity', (ev) => {
      try {
        this.#add(JSON.parse(ev.data));
        this.#drawEmpty();
      } catch (e) {
        console.warn('bad activity event', e);
      }
    });
    this.source.addEventListener('open', () => this.root.classList.remove('offline'));
    this.source.addEventListener('error', () => this.root.classList.add('offline'));
  }

  close() {
    this.closed = true;
    this.source?.close();
    this.root.hidden = true;
    this.root.replaceChildren();
  }

  #add(item) {
    const key = `${item.user.username}|${item.song.id}|${item.kind}|${item.at_ms}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const li = h('li', {
      class: 'friend-item',
      dataset: { user: item.user.username, songId: item.song.id, kind: item.kind },
    },
    cover(item.song, 'thumb'),
    h('span', { class: 'friend-text' },
      h('a', { href: `#/users/${encodeURIComponent(item.user.username)}`, class: 'friend-name' }, item.user.display_name),
      h('span', { class: 'muted small' }, ` ${KIND_LABEL[item.kind] ?? item.kind}`),
      h('span', { class: 'friend-song' }, `${item.song.title} · ${item.song.artist}`),
      h('span', { class: 'muted small' }, fmtAgo(item.at_ms))));
    this.list.prepend(li);
    while (this.list.querySelectorAll('.friend-item').length > SIDEBAR_ITEMS) {
      [...this.list.querySelectorAll('.friend-item')].pop().remove();
    }
  }

  #drawEmpty() {
    const hasItems = !!this.list.querySelector('.friend-item');
    const note = this.list.querySelector('.friend-empty');
    if (hasItems) note?.remove();
    else if (!note) {
      this.list.append(h('li', { class: 'friend-empty muted small' },
        'Follow people (find them in Search) to see what they listen to.'));
    }
  }
}

// ---- privacy ---------------------------------------------------------------------------

/** Shows or hides the player's "Private session" badge. */
export function drawPrivacy(privacy) {
  const badge = document.getElementById('private-badge');
  if (badge) badge.hidden = !privacy?.private_session;
}

export async function refreshPrivacy() {
  try {
    drawPrivacy(await get('/api/me/privacy'));
  } catch (e) {
    console.warn('could not read privacy settings', e);
  }
}

/** Ends a private session (the badge's button). */
export async function endPrivateSession() {
  try {
    drawPrivacy(await put('/api/me/privacy', { private_session: false }));
    toast('Private session ended.');
  } catch (e) {
    toast(`Could not end the private session: ${e.message}`, 'error');
  }
}

/** The longest display name the server takes, in characters. */
const MAX_DISPLAY_NAME = 40;

/**
 * The settings page: your display name, sharing, the private session, and the people
 * you blocked (with Unblock). `onProfile` gets the saved profile (the nav shows the name).
 */
export async function renderSettings(view, { onProfile } = {}) {
  setTitle('Settings');
  const share = h('input', { type: 'checkbox', id: 'share-activity' });
  const priv = h('input', { type: 'checkbox', id: 'private-session' });
  const status = h('p', { class: 'muted small', id: 'privacy-status', role: 'status' });
  const nameInput = h('input', {
    id: 'display-name', maxlength: MAX_DISPLAY_NAME, autocomplete: 'nickname',
    'aria-describedby': 'display-name-status',
  });
  const nameStatus = h('p', { class: 'muted small', id: 'display-name-status', role: 'status' });
  const nameForm = h('form', {
    class: 'inline-form', id: 'display-name-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const p = await put('/api/me/profile', { display_name: nameInput.value });
        drawName(p);
        nameStatus.classList.remove('form-error');
        onProfile?.(p);
        toast('Display name saved.');
      } catch (e) {
        nameStatus.textContent = e.message;
        nameStatus.classList.add('form-error');
      }
    },
  }, nameInput, h('button', { type: 'submit', class: 'btn btn-primary', id: 'save-display-name' }, 'Save'));
  const blockedList = h('ul', { class: 'plain-list blocked-list', id: 'blocked-list' });
  view.replaceChildren(h('section', { class: 'page' },
    h('header', { class: 'page-head' }, h('h1', {}, 'Settings')),
    h('div', { class: 'settings' },
      h('h2', {}, 'Profile'),
      h('label', { for: 'display-name' }, 'Display name (what others see; leave blank to show your username)'),
      nameForm, nameStatus,
      h('h2', {}, 'Privacy'),
      h('label', { class: 'toggle' }, share, ' Share what I listen to with people who follow me'),
      h('label', { class: 'toggle' }, priv, ' Private session (for 6 hours or until I sign out: nothing is shared)'),
      status,
      h('h2', {}, 'Blocked people'),
      h('p', { class: 'muted small' }, 'They cannot follow you or see anything of yours.'),
      blockedList)));
  const drawName = (p) => {
    nameInput.value = p.custom ? p.display_name : '';
    nameInput.placeholder = p.username;
    nameStatus.textContent = p.custom ? `Others see you as ${p.display_name} (@${p.username}).` : `Others see your username, ${p.username}.`;
  };
  const drawBlocked = (users) => {
    if (!users.length) {
      blockedList.replaceChildren(h('li', { class: 'muted small', id: 'blocked-empty' }, 'You have not blocked anyone.'));
      return;
    }
    blockedList.replaceChildren(...users.map((u) => h('li', { class: 'blocked-person', dataset: { user: u.username } },
      h('a', { href: `#/users/${encodeURIComponent(u.username)}` }, u.display_name),
      h('span', { class: 'muted small' }, ` @${u.username} `),
      h('button', {
        type: 'button', class: 'btn', 'aria-label': `Unblock ${u.display_name}`,
        onclick: async () => {
          try {
            await del(`/api/me/blocked/${encodeURIComponent(u.username)}`);
            toast(`Unblocked ${u.display_name}.`);
            drawBlocked((await get('/api/me/blocked')).users);
          } catch (e) {
            toast(`Not unblocked: ${e.message}`, 'error');
          }
        },
      }, 'Unblock'))));
  };
  const draw = (p) => {
    share.checked = p.share_activity;
    priv.checked = p.private_session;
    status.textContent = p.private_session
      ? `Private session until ${new Date(p.private_session_ends).toLocaleTimeString()}.`
      : p.share_activity ? 'Your followers see what you play.' : 'Nothing you play is shared.';
    drawPrivacy(p);
  };
  const save = async (change) => {
    try {
      draw(await put('/api/me/privacy', change));
    } catch (e) {
      toast(`Not saved: ${e.message}`, 'error');
    }
  };
  share.addEventListener('change', () => save({ share_activity: share.checked }));
  priv.addEventListener('change', () => save({ private_session: priv.checked }));
  const [privacy, profile, blocked] = await Promise.all([
    get('/api/me/privacy'), get('/api/me/profile'), get('/api/me/blocked')]);
  draw(privacy);
  drawName(profile);
  drawBlocked(blocked.users);
}

/** The onboarding question: a checkbox, and how to save the answer. */
export function sharingQuestion() {
  const box = h('input', { type: 'checkbox', id: 'onboarding-share' });
  return {
    element: h('label', { class: 'toggle' }, box,
      ' Let people who follow me see what I listen to (you can change this any time in Settings)'),
    save: () => put('/api/me/privacy', { share_activity: box.checked }),
  };
}

// ---- profiles ----------------------------------------------------------------------------

export async function renderProfile(view, ctx, username) {
  setTitle(username);
  const page = h('section', { class: 'page', id: 'profile' });
  view.replaceChildren(page);
  let p;
  try {
    p = await get(`/api/users/${encodeURIComponent(username)}`);
  } catch (e) {
    page.replaceChildren(empty('No such listener', e.status === 404 ? `There is no one called ${username} here.` : e.message));
    return;
  }
  const draw = () => {
    const actions = [];
    if (!p.me) {
      if (!p.blocked) {
        actions.push(h('button', {
          type: 'button', class: `btn ${p.following ? '' : 'btn-primary'}`, id: 'follow-btn',
          'aria-pressed': String(p.following),
          onclick: () => toggle(p.following ? del : put, 'following', () => { p.following = !p.following; }),
        }, p.following ? 'Following' : 'Follow'));
      }
      actions.push(h('button', {
        type: 'button', class: 'btn btn-danger', id: 'block-btn',
        onclick: () => toggle(p.blocked ? del : put, 'blocked', () => { p.blocked = !p.blocked; if (p.blocked) p.following = false; }),
      }, p.blocked ? 'Unblock' : 'Block'));
    }
    const finished = p.recently_finished.map((f) => h('li', { class: 'song-row', dataset: { songId: f.song.id } },
      h('button', { type: 'button', class: 'row-play', onclick: () => ctx.player.playList([f.song], 0, { source: 'profile' }) },
        cover(f.song, 'thumb'),
        h('span', { class: 'row-text' }, h('span', { class: 'row-title' }, f.song.title), h('span', { class: 'row-sub' }, f.song.artist))),
      h('span', { class: 'row-meta muted small' }, fmtAgo(Date.parse(f.at)))));
    page.replaceChildren(...[
      h('header', { class: 'page-head' },
        h('div', {},
          h('h1', { id: 'profile-name' }, p.user.display_name),
          h('p', { class: 'muted', id: 'profile-username' }, `@${p.user.username}`,
            p.me ? ' · This is you.' : p.follows_you ? ' · Follows you' : '')),
        h('div', { class: 'page-actions' }, actions)),
      p.shares_activity ? null : h('p', { class: 'muted' }, 'Does not share their listening.'),
      h('h2', {}, 'Recently finished'),
      finished.length ? h('ol', { class: 'song-list', id: 'profile-finished' }, finished) : h('p', { class: 'muted' }, 'Nothing to show.'),
      h('h2', {}, 'Public playlists'),
      p.playlists.length
        ? h('ul', { class: 'plain-list', id: 'profile-playlists' }, p.playlists.map((pl) => h('li', { dataset: { playlistId: pl.id } },
          `${pl.name} (${pl.songs} song${pl.songs === 1 ? '' : 's'})`)))
        : h('p', { class: 'muted', id: 'profile-no-playlists' }, p.me ? 'None: make a playlist public on its page to list it here.' : 'Nothing to show.'),
    ].filter(Boolean));
  };
  const toggle = async (method, what, apply) => {
    try {
      await method(`/api/me/${what}/${encodeURIComponent(username)}`, method === put ? {} : undefined);
      apply();
      draw();
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  draw();
}

/** The people section of search results. */
export function peopleSection(people) {
  if (!people?.length) return null;
  return h('section', { class: 'people', id: 'search-people' },
    h('h2', {}, 'People'),
    h('ul', { class: 'plain-list' }, people.map((u) => h('li', {},
      h('a', { href: `#/users/${encodeURIComponent(u.username)}`, class: 'person', dataset: { user: u.username } }, u.display_name),
      u.display_name === u.username ? null : h('span', { class: 'muted small' }, ` @${u.username}`)))));
}

// ---- now playing ----------------------------------------------------------------------

/** Tells the server a song started, so followers may see it (if the listener shares). */
export function announcePlaying(song) {
  post('/api/me/now-playing', { song_id: song.id }).catch((e) => console.warn('now playing not sent', e));
}
