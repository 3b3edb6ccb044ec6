// Small DOM helpers shared by every view: an element builder, icons, time formatting,
// toasts, song rows and cards. Text from the server only ever goes in through
// textContent (never innerHTML); only the constant icon markup below uses innerHTML.

/** Builds an element: h('button', {class: 'x', onclick: f, 'aria-label': 'Play'}, child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const PATHS = {
  play: 'M8 5.5v13l11-6.5z',
  pause: 'M7 5h4v14H7zm6 0h4v14h-4z',
  next: 'M6 6l8.5 6L6 18zM16 6h2v12h-2z',
  prev: 'M18 6l-8.5 6L18 18zM6 6h2v12H6z',
  heart: 'M12 20.5l-1.3-1.2C6 15 3 12.3 3 8.9 3 6.2 5.1 4 7.8 4c1.5 0 3 .7 4.2 1.9C13.2 4.7 14.7 4 16.2 4 18.9 4 21 6.2 21 8.9c0 3.4-3 6.1-7.7 10.4z',
  down: 'M15 3H6c-.8 0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2c0 1.1.9 2 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1L9.8 23l6.6-6.6c.4-.4.6-.9.6-1.4V5c0-1.1-.9-2-2-2zm4 0v12h4V3z',
  volume: 'M3 9v6h4l5 5V4L7 9zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z',
  mute: 'M16.5 12A4.5 4.5 0 0 0 14 8v2.2l2.5 2.5zM19 12c0 .9-.2 1.8-.5 2.6l1.5 1.5A8.8 8.8 0 0 0 21 12a9 9 0 0 0-7-8.8v2.1A7 7 0 0 1 19 12zM4.3 3L3 4.3 7.7 9H3v6h4l5 5v-6.7l4.3 4.3c-.7.5-1.4.9-2.3 1.2v2.1a9 9 0 0 0 3.7-1.8l2 2 1.3-1.3-9-9zM12 4L9.9 6.1 12 8.2z',
  plus: 'M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z',
  refresh: 'M17.7 6.3A8 8 0 1 0 19.8 14h-2.1a6 6 0 1 1-1.4-6.3L13 11h7V4z',
  search: 'M15.5 14h-.8l-.3-.3A6.5 6.5 0 1 0 14 15.5l.3.3v.8l5 5 1.5-1.5zm-6 0a4.5 4.5 0 1 1 0-9 4.5 4.5 0 0 1 0 9z',
  home: 'M10 20v-6h4v6h5v-8h3L12 3 2 12h3v8z',
  list: 'M3 6h12v2H3zm0 4h12v2H3zm0 4h8v2H3zm14-4v8.2A3 3 0 1 0 19 21v-9h3v-2z',
  library: 'M4 6H2v14c0 1.1.9 2 2 2h14v-2H4zm16-4H8c-1.1 0-2 .9-2 2v12c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2zm-1 9h-4v4h-2v-4H9V9h4V5h2v4h4z',
  up: 'M7 14l5-5 5 5z',
  downArrow: 'M7 10l5 5 5-5z',
  trash: 'M6 19c0 1.1.9 2 2 2h8c1.1 0 2-.9 2-2V7H6zM19 4h-3.5l-1-1h-5l-1 1H5v2h14z',
  close: 'M19 6.4L17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z',
  radio: 'M3.2 6.2 16.6 1l.7 1.9L8.2 6.4H20a1 1 0 0 1 1 1V20a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V7.4c0-.5.1-.9.2-1.2zM7 18a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm7-7v2h5v-2zm0 4v2h5v-2z',
  logout: 'M10 17l1.4-1.4L8.8 13H20v-2H8.8l2.6-2.6L10 7l-5 5zM4 5h8V3H4c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h8v-2H4z',
};

/** An inline SVG icon (constant markup only). */
export function icon(name, cls = 'icon') {
  const span = document.createElement('span');
  span.className = cls;
  span.setAttribute('aria-hidden', 'true');
  span.innerHTML = `<svg viewBox="0 0 24 24" width="24" height="24"><path fill="currentColor" d="${PATHS[name]}"/></svg>`;
  return span;
}

/** An icon button with an accessible name and a tooltip. */
export function iconButton(name, label, onclick, cls = 'icon-btn') {
  return h('button', { type: 'button', class: cls, 'aria-label': label, title: label, onclick }, icon(name));
}

/** 3:07 from milliseconds. */
export function fmtTime(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '0:00';
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** "3 min ago" for a past time in ms since the epoch. */
export function fmtAgo(atMs) {
  const s = Math.max(0, Math.round((Date.now() - atMs) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(atMs).toLocaleDateString();
}

/** Shows a short message in the corner; kind is 'info' or 'error'. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(t);
  setTimeout(() => t.classList.add('leaving'), 3500);
  setTimeout(() => t.remove(), 4000);
}

/** The cover image of a song. */
export function cover(song, cls = 'cover') {
  return h('img', { class: cls, src: `/art/${encodeURIComponent(song.id)}`, alt: '', loading: 'lazy', decoding: 'async', width: 160, height: 160 });
}

/** The genre chip. */
export function genreChip(genre) {
  return h('span', { class: 'chip' }, genre);
}

/**
 * A list row for a song: cover, title/artist, album, genre, duration, and actions.
 * `actions` are extra elements appended at the end.
 */
export function songRow(song, { onplay, actions = [], index, playing = false, meta } = {}) {
  const row = h('li', { class: `song-row${playing ? ' playing' : ''}`, dataset: { songId: song.id } },
    h('button', { type: 'button', class: 'row-play', onclick: onplay, 'aria-label': `Play ${song.title} by ${song.artist}` },
      index !== undefined ? h('span', { class: 'row-index' }, String(index + 1)) : null,
      cover(song, 'thumb'),
      h('span', { class: 'row-text' },
        h('span', { class: 'row-title' }, song.title),
        h('span', { class: 'row-sub' }, song.artist, ' · ', song.album)),
    ),
    h('span', { class: 'row-genre' }, genreChip(song.genre)),
    meta ? h('span', { class: 'row-meta' }, meta) : null,
    h('span', { class: 'row-time' }, fmtTime(song.duration_ms)),
    h('span', { class: 'row-actions' }, actions),
  );
  return row;
}

/** An empty-state block. */
export function empty(title, text, ...extra) {
  return h('div', { class: 'empty' }, h('h3', {}, title), h('p', {}, text), ...extra);
}

/** Sets the page title and the main heading's focus target after a view renders. */
export function setTitle(title) {
  document.title = title ? `${title} · Spoofify` : 'Spoofify';
}

/** A UUID v4 for interaction ids; crypto.randomUUID needs a secure context, so fall back. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
