// The app's entry point: who is signed in, the hash router, the player bar, the
// keyboard shortcuts and the sync indicator. Views live in their own modules.

import { get, post } from './api.js';
import { icon, fmtTime, toast } from './ui.js';
import { Outbox } from './outbox.js';
import { Player } from './player.js';
import { renderLogin, renderSignup, renderOnboarding } from './auth.js';
import { renderFeed } from './feed.js';
import { renderSearch } from './search.js';
import { renderPlaylists, renderPlaylist } from './playlists.js';
import { renderLibrary } from './library.js';
import { renderApps } from './apps.js';
import { renderOps } from './ops.js';
import { startRadio } from './radio.js';
import { FriendActivity, renderProfile, renderSettings, refreshPrivacy, endPrivateSession, drawPrivacy, announcePlaying } from './social.js';

const $ = (id) => document.getElementById(id);
/** Seek step of the arrow keys, in seconds. */
const SEEK_STEP_S = 5;
/** Volume step of the arrow keys. */
const VOLUME_STEP = 0.05;
/** "g" then a letter within this long jumps to a page. */
const GO_PREFIX_MS = 1200;

const ctx = { me: null, outbox: null, player: null, feed: null, friends: null };
window.spoofify = ctx; // for the console and the browser tests
// Uncaught errors are kept so the browser tests can insist there were none.
window.__errors = [];
window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason?.message ?? e.reason)));

// ---- sign-in state ------------------------------------------------------------------

function signedIn(me) {
  const sameUser = ctx.me?.id === me.id;
  ctx.me = me;
  if (!sameUser) {
    ctx.player?.stop();
    ctx.outbox?.close();
    ctx.feed = null;
    ctx.outbox = new Outbox(me.username);
    ctx.player = new Player(ctx.outbox);
    bindPlayer(ctx.player);
    ctx.outbox.addEventListener('change', drawSync);
    ctx.outbox.flush();
    ctx.friends?.close();
    ctx.friends = null;
  }
  if (me.preferences.onboarded && !ctx.friends) startFriends();
  refreshPrivacy();
  drawName(me);
  // The operator page is for the admins named in config (the server checks it too).
  $('nav-ops-item').hidden = !me.admin;
  $('nav').hidden = false;
  $('player').hidden = false;
  document.body.classList.add('signed-in');
  drawSync();
}

/** The name in the nav: the display name others see, or the username. */
function drawName(me) {
  const name = me.display_name || me.username;
  $('user-name').textContent = name;
  $('user-name').title = `@${me.username}`;
  $('avatar').textContent = name.slice(0, 1).toUpperCase();
}

/** The friend-activity sidebar, once the listener is onboarded. */
function startFriends() {
  ctx.friends = new FriendActivity($('friends'));
  ctx.friends.start().catch(showCrash);
}

function signedOut() {
  ctx.player?.stop();
  ctx.outbox?.close();
  ctx.friends?.close();
  drawPrivacy(null);
  Object.assign(ctx, { me: null, outbox: null, player: null, feed: null, friends: null });
  $('nav').hidden = true;
  $('nav-ops-item').hidden = true;
  $('player').hidden = true;
  document.body.classList.remove('signed-in');
}

async function logout() {
  // Send what is queued while the session still exists, then forget it: nothing of this
  // listener's history stays in the browser after an explicit sign-out.
  const dropped = (await ctx.outbox?.forget()) ?? 0;
  if (dropped > 0) toast(`${dropped} plays could not be sent and were discarded.`, 'error');
  try {
    await post('/api/logout');
  } catch (e) {
    toast(`Signed out here; the server could not be told: ${e.message}`, 'error');
  }
  signedOut();
  location.hash = '#/login';
}

window.addEventListener('spoofify:unauthorized', () => {
  if (!ctx.me) return;
  signedOut();
  toast('Your session ended. Please sign in again.');
  location.hash = '#/login';
});

// ---- routing ------------------------------------------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

async function route() {
  const view = $('view');
  // A view's cleanup failing must not stop navigation (e.g. sign-out while it is open).
  try {
    view.cleanup?.();
  } catch (e) {
    console.error(e);
  }
  view.cleanup = null;
  view.refreshFeed = null;
  const { parts, params } = parseHash();
  const page = parts[0] ?? 'home';
  const onSignedIn = (me) => {
    signedIn(me);
    location.hash = me.preferences.onboarded ? '#/' : '#/welcome';
  };
  if (!ctx.me) {
    if (page === 'signup') return renderSignup(view, { onSignedIn });
    if (page !== 'login') return void (location.hash = '#/login');
    return renderLogin(view, { onSignedIn });
  }
  if (page === 'login' || page === 'signup') return void (location.hash = '#/');
  if (!ctx.me.preferences.onboarded && page !== 'welcome') return void (location.hash = '#/welcome');
  for (const a of document.querySelectorAll('.nav-links a')) {
    a.setAttribute('aria-current', a.dataset.route === page ? 'page' : 'false');
  }
  switch (page) {
    case 'welcome':
      return renderOnboarding(view, { me: ctx.me, onDone: (me) => { signedIn(me); location.hash = '#/'; } });
    case 'search':
      return renderSearch(view, ctx, params);
    case 'playlists':
      return parts[1] ? renderPlaylist(view, ctx, parts[1]) : renderPlaylists(view, ctx);
    case 'library':
      return renderLibrary(view, ctx, params);
    case 'apps':
      return renderApps(view, ctx);
    case 'settings':
      return renderSettings(view, {
        onProfile: (p) => {
          ctx.me = { ...ctx.me, display_name: p.display_name };
          drawName(ctx.me);
        },
      });
    case 'users':
      return renderProfile(view, ctx, decodeURIComponent(parts[1] ?? ''));
    case 'home':
      return renderFeed(view, ctx);
    case 'ops':
      return renderOps(view);
    default:
      location.hash = '#/';
  }
}

window.addEventListener('hashchange', () => {
  route().catch(showCrash);
  $('view').focus({ preventScroll: true });
});

function showCrash(e) {
  console.error(e);
  toast(`Something went wrong: ${e.message}`, 'error');
}

// ---- the player bar -----------------------------------------------------------------

let scrubbing = false;

function bindPlayer(player) {
  const scrub = $('scrub');
  const drawSong = () => {
    const s = player.current;
    $('now-title').textContent = s ? s.title : 'Nothing playing';
    $('now-artist').textContent = s ? `${s.artist} · ${s.genre}` : 'Pick a song from your feed';
    const c = $('now-cover');
    if (s) c.src = `/art/${encodeURIComponent(s.id)}`;
    else c.removeAttribute('src');
    $('player').dataset.songId = s?.id ?? '';
    document.title = s ? `${s.title} · ${s.artist}` : 'Spoofify';
  };
  const drawState = () => {
    const playing = player.playing;
    const btn = $('play');
    btn.replaceChildren(icon(playing ? 'pause' : 'play'));
    btn.setAttribute('aria-label', playing ? 'Pause (Space)' : 'Play (Space)');
    btn.title = btn.getAttribute('aria-label');
    $('player').dataset.state = playing ? 'playing' : 'paused';
  };
  const drawTime = () => {
    const dur = player.durationMs;
    $('time-dur').textContent = fmtTime(dur);
    if (scrubbing) return;
    $('time-cur').textContent = fmtTime(player.positionMs);
    scrub.value = dur > 0 ? String(Math.round((player.positionMs / dur) * 1000)) : '0';
    scrub.setAttribute('aria-valuetext', player.timeText);
  };
  const drawVolume = () => {
    const muted = player.audio.muted || player.audio.volume === 0;
    $('mute').replaceChildren(icon(muted ? 'mute' : 'volume'));
    $('volume').value = String(Math.round(player.audio.muted ? 0 : player.audio.volume * 100));
  };
  const drawQuality = () => {
    const auto = $('quality').querySelector('option[value="auto"]');
    const kbps = player.throughputKbps;
    auto.textContent = player.quality === 'auto'
      ? `Auto (${player.effectiveQuality}${kbps ? ` · ${kbps >= 1000 ? `${(kbps / 1000).toFixed(1)} Mbps` : `${Math.round(kbps)} kbps`}` : ''})`
      : 'Auto';
    $('quality').value = player.quality;
  };
  let announced = null;
  player.addEventListener('song', () => {
    drawSong();
    drawTime();
    // A song that starts is "now playing" for friends (the server applies privacy).
    const s = player.current;
    if (s && s !== announced) announcePlaying(s);
    announced = s;
  });
  player.addEventListener('state', drawState);
  player.addEventListener('time', drawTime);
  player.addEventListener('volume', drawVolume);
  player.addEventListener('quality', drawQuality);
  drawSong();
  drawState();
  drawTime();
  drawVolume();
  drawQuality();
}

function wirePlayerControls() {
  const p = () => ctx.player;
  $('play').addEventListener('click', () => p()?.toggle());
  $('next').addEventListener('click', () => p()?.next());
  $('prev').addEventListener('click', () => p()?.previous());
  $('like').addEventListener('click', () => p()?.rate('liked'));
  $('dislike').addEventListener('click', () => p()?.rate('disliked'));
  $('now-radio').addEventListener('click', () => {
    const player = p();
    if (player?.current) startRadio(ctx, player.current);
  });
  $('mute').addEventListener('click', () => p()?.toggleMute());
  $('volume').addEventListener('input', (e) => p()?.setVolume(Number(e.target.value) / 100));
  $('quality').addEventListener('change', (e) => {
    p()?.setQuality(e.target.value);
    toast('Quality applies from the next song.');
  });
  const scrub = $('scrub');
  scrub.addEventListener('input', () => {
    const player = p();
    if (!player) return;
    scrubbing = true;
    $('time-cur').textContent = fmtTime((Number(scrub.value) / 1000) * player.durationMs);
  });
  scrub.addEventListener('change', () => {
    const player = p();
    scrubbing = false;
    if (player) player.seek(((Number(scrub.value) / 1000) * player.durationMs) / 1000);
  });
  $('logout').addEventListener('click', logout);
  $('private-badge').addEventListener('click', endPrivateSession);
  $('shortcuts-btn').addEventListener('click', () => $('help').showModal());
  for (const el of document.querySelectorAll('[data-icon]')) el.prepend(icon(el.dataset.icon));
}

function drawSync() {
  const el = $('sync-status');
  const n = ctx.outbox?.pending ?? 0;
  el.dataset.pending = String(n);
  el.classList.toggle('offline', n > 0 && !!ctx.outbox?.lastError);
  el.textContent = n === 0 ? 'All listening saved' : ctx.outbox?.lastError ? `${n} waiting · server unreachable, retrying` : `Saving ${n}…`;
}

// ---- keyboard -----------------------------------------------------------------------

let goPrefixAt = 0;

function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || !ctx.me) return;
  const t = ev.target;
  const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || t.isContentEditable;
  if (typing || document.querySelector('dialog[open]')) return;
  const p = ctx.player;
  const key = ev.key;
  if (Date.now() - goPrefixAt < GO_PREFIX_MS) {
    goPrefixAt = 0;
    const to = { h: '#/', p: '#/playlists', l: '#/library', s: '#/search' }[key.toLowerCase()];
    if (to) {
      ev.preventDefault();
      location.hash = to;
      return;
    }
  }
  const onButton = t instanceof HTMLButtonElement || t instanceof HTMLAnchorElement;
  const actions = {
    ' ': () => !onButton && p.toggle(),
    k: () => p.toggle(),
    n: () => p.next(),
    p: () => p.previous(),
    ArrowRight: () => (ev.shiftKey ? p.next() : p.seek(p.audio.currentTime + SEEK_STEP_S)),
    ArrowLeft: () => (ev.shiftKey ? p.previous() : p.seek(p.audio.currentTime - SEEK_STEP_S)),
    ArrowUp: () => p.setVolume(p.audio.volume + VOLUME_STEP),
    ArrowDown: () => p.setVolume(p.audio.volume - VOLUME_STEP),
    m: () => p.toggleMute(),
    l: () => p.rate('liked'),
    d: () => p.rate('disliked'),
    r: () => $('view').refreshFeed?.(),
    '/': () => { location.hash = '#/search'; },
    '?': () => $('help').showModal(),
    g: () => { goPrefixAt = Date.now(); },
  };
  const action = actions[key.length === 1 ? key.toLowerCase() : key];
  if (!action || (key === ' ' && onButton)) return;
  if (key.startsWith('Arrow') && t.closest?.('.song-list, .card-grid')) return; // list navigation
  ev.preventDefault();
  action();
}

// ---- the demo catalog growing on a first start ----------------------------------------

/** How often the app asks whether the demo catalog is still being made. */
const CATALOG_POLL_MS = 15000;

/**
 * On a node's first start the demo catalog arrives in parts: say so once, and again
 * when it is complete. Quiet when the catalog is whole (the usual case).
 */
async function watchCatalog(announced = false) {
  let generation = null;
  try {
    const r = await fetch('/readyz', { headers: { accept: 'application/json' } });
    generation = (await r.json())?.catalog?.generation ?? null;
  } catch {
    return; // the sync indicator already tells when the server is unreachable
  }
  if (!generation || generation.failed) return;
  if (generation.complete) {
    if (announced) toast(`The demo catalog is complete: ${generation.total} songs.`);
    return;
  }
  if (!announced) {
    toast(`The demo catalog is still being made: ${generation.done} of ${generation.total} songs so far — more appear as you listen.`);
  }
  setTimeout(() => watchCatalog(true), CATALOG_POLL_MS);
}

// ---- start --------------------------------------------------------------------------

async function boot() {
  wirePlayerControls();
  document.addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && ctx.outbox?.flush());
  try {
    signedIn(await get('/api/me'));
  } catch (e) {
    if (e.status !== 401) toast(`The server could not be reached: ${e.message}`, 'error');
  }
  await route();
  watchCatalog();
}

boot().catch(showCrash);
