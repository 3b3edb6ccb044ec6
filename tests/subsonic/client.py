"""Drives a Spoofify node's Subsonic API with py-opensonic (a client library nobody
here wrote) for tests/subsonic.rs. Run by scripts/opensonic (the pinned library in a
virtualenv) as `client.py <command> <config.json>`; prints one JSON object.

Commands:
  coverage  every endpoint, in JSON through the library with each way to sign in
            (apiKey, u+p enc: with the login and the app password, u+t+s), and in XML by hand (u+p plain); the Subsonic
            errors; reports what failed
  listen    the `actions` (now playing, finish, star, ...) through the library
  similar   getSimilarSongs / getSimilarSongs2 / getRandomSongs for `id`/`artist`
  stream    the song `id` through the library, whole and with `range`; sha256 of each
"""

import hashlib
import json
import sys
import traceback
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import libopensonic
from libopensonic import errors

NS = "{http://subsonic.org/restapi}"


def png_of_side(c, resp, side):
    """A PNG (what apps' image loaders decode) of side x side pixels."""
    import asyncio
    body = asyncio.run_coroutine_threadsafe(resp.read(), c._loop).result(30)
    return (resp.headers["Content-Type"] == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n"
            and int.from_bytes(body[16:20], "big") == side and int.from_bytes(body[20:24], "big") == side)


def connect(cfg, auth):
    base, port = cfg["host"], cfg["port"]
    common = dict(port=port, app_name="spoofify-test")
    if auth == "apikey":
        return libopensonic.Connection(base, api_key=cfg["api_key"], **common)
    if auth == "enc-app":
        # u + p=enc: with the app password, by GET without .view.
        return libopensonic.Connection(base, cfg["user"], cfg["app_password"], legacy_auth=True, use_get=True, use_views=False, **common)
    if auth == "enc":
        return libopensonic.Connection(base, cfg["user"], cfg["password"], legacy_auth=True, **common)
    if auth == "token":
        return libopensonic.Connection(base, cfg["user"], cfg["app_password"], **common)
    raise ValueError(auth)


def raw(cfg, method, params, view=True, post=False, creds=None):
    """One request by hand; returns (status, content type, body bytes)."""
    q = dict(v="1.16.1", c="spoofify-test")
    q.update(creds if creds is not None else dict(u=cfg["user"], p=cfg["password"]))
    q.update(params)
    pairs = []
    for k, v in q.items():
        for one in (v if isinstance(v, list) else [v]):
            pairs.append((k, str(one)))
    url = f"{cfg['host']}:{cfg['port']}/rest/{method}{'.view' if view else ''}"
    data = urllib.parse.urlencode(pairs)
    if post:
        req = urllib.request.Request(url, data=data.encode(), method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    else:
        req = urllib.request.Request(url + "?" + data)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def coverage(cfg):
    failures, checks = [], 0
    song, other, album, artist, genre = cfg["song"], cfg["other_song"], cfg["album"], cfg["artist"], cfg["genre"]
    artist_name = cfg["artist_name"]

    def check(name, fn):
        nonlocal checks
        checks += 1
        try:
            out = fn()
            if out is False or out is None:
                failures.append(f"{name}: returned {out!r}")
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failures.append(f"{name}: {type(e).__name__}: {e} {traceback.format_exc(limit=2)[-300:]}")

    # (Plain `p=` is what the XML checks below send.)
    for auth in ["apikey", "enc", "enc-app", "token"]:
        c = connect(cfg, auth)
        try:
            t = f"[{auth}]"
            check(f"{t} ping", lambda: c.ping())
            check(f"{t} getLicense", lambda: c.get_license() is not None)
            check(f"{t} getOpenSubsonicExtensions", lambda: any(e.name == "apiKeyAuthentication" for e in c.get_open_subsonic_extensions()))
            # py-opensonic 10.4.1 iterates `musicFolders` itself, but servers (Subsonic,
            # Navidrome, ours) send {"musicFolders": {"musicFolder": [...]}}: read it raw.
            check(f"{t} getMusicFolders", lambda: json.loads(raw(cfg, "getMusicFolders", {"f": "json"})[2])["subsonic-response"]["musicFolders"]["musicFolder"][0]["id"] == 1)
            check(f"{t} getIndexes", lambda: len(c.get_indexes().index) > 0)
            check(f"{t} getArtists", lambda: any(a.id == artist for i in c.get_artists().index for a in i.artist))
            check(f"{t} getArtist", lambda: c.get_artist(artist).name == artist_name and len(c.get_artist(artist).album) > 0)
            check(f"{t} getArtistInfo2", lambda: c.get_artist_info2(artist) is not None)
            check(f"{t} getAlbum", lambda: any(s.id == song for s in c.get_album(album).song))
            check(f"{t} getAlbumInfo2", lambda: c.get_album_info2(album) is not None)
            check(f"{t} getSong", lambda: c.get_song(song).id == song)
            check(f"{t} getGenres", lambda: any(g.value == genre and g.song_count > 0 for g in c.get_genres()))
            check(f"{t} getSongsByGenre", lambda: len(c.get_songs_by_genre(genre, count=3)) == 3)
            for kind in ["random", "newest", "frequent", "recent", "starred", "alphabeticalByName"]:
                check(f"{t} getAlbumList2 {kind}", lambda kind=kind: isinstance(c.get_album_list2(kind, size=5), list))
            check(f"{t} getAlbumList2 byGenre", lambda: len(c.get_album_list2("byGenre", size=50, genre=genre)) > 0)
            check(f"{t} search3", lambda: len(c.search3(cfg["query"]).song) > 0)
            check(f"{t} getCoverArt", lambda: png_of_side(c, c.get_cover_art(song, size=300), 512))
            check(f"{t} getCoverArt small", lambda: png_of_side(c, c.get_cover_art(song, size=64), 64))
            check(f"{t} getCoverArt album", lambda: c.get_cover_art(album).status == 200)
            check(f"{t} stream", lambda: c.stream(song).headers["Content-Type"].startswith("audio/"))
            check(f"{t} download", lambda: c.download(song).status == 200)
            check(f"{t} scrobble now", lambda: c.scrobble(other, submission=False))
            check(f"{t} getNowPlaying", lambda: any(e.id == other for e in c.get_now_playing()))
            check(f"{t} scrobble finish", lambda: c.scrobble(other, submission=True, listen_time=1_700_000_000))
            check(f"{t} star", lambda: c.star(sids=[song], album_ids=[album], artist_ids=[artist]))
            check(f"{t} getStarred2", lambda: (lambda s: any(x.id == song for x in s.song) and any(a.id == album for a in s.album) and any(a.id == artist for a in s.artist))(c.get_starred2()))
            check(f"{t} unstar", lambda: c.unstar(sids=[song], album_ids=[album], artist_ids=[artist]))
            check(f"{t} getStarred2 after unstar", lambda: not any(x.id == song for x in (c.get_starred2().song or [])))
            check(f"{t} setRating", lambda: c.set_rating(other, 5))
            check(f"{t} getSimilarSongs", lambda: song not in [s.id for s in c.get_similar_songs(song, count=5)] and len(c.get_similar_songs(song, count=5)) > 0)
            check(f"{t} getSimilarSongs2", lambda: len(c.get_similar_songs2(artist, count=5)) > 0)
            check(f"{t} getTopSongs", lambda: all(s.artist == artist_name for s in c.get_top_songs(artist_name, count=5)) and len(c.get_top_songs(artist_name)) > 0)
            check(f"{t} getRandomSongs", lambda: len(c.get_random_songs(size=4)) == 4)
            check(f"{t} getRandomSongs genre", lambda: all(s.genre == genre for s in c.get_random_songs(size=3, genre=genre)))
            name = f"From {auth}"
            check(f"{t} createPlaylist", lambda: c.create_playlist(name=name, song_ids=[song, other]))
            pid = None
            try:
                pid = next(p.id for p in c.get_playlists() if p.name == name)
            except Exception as e:  # noqa: BLE001
                failures.append(f"{t} getPlaylists: {e}")
            if pid:
                check(f"{t} getPlaylist", lambda: [s.id for s in c.get_playlist(pid).entry] == [song, other])
                check(f"{t} updatePlaylist", lambda: c.update_playlist(pid, name=name + "!", song_ids_to_add=[song], song_indices_to_remove=[0]))
                check(f"{t} getPlaylist updated", lambda: [s.id for s in c.get_playlist(pid).entry] == [other, song] and c.get_playlist(pid).name == name + "!")
                check(f"{t} deletePlaylist", lambda: c.delete_playlist(pid))
                check(f"{t} playlist gone", lambda: all(p.id != pid for p in c.get_playlists()))
            check(f"{t} savePlayQueue", lambda: c.save_play_queue([song, other], current=other, position=1234))
            check(f"{t} getPlayQueue", lambda: (lambda q: [e.id for e in q.entry] == [song, other] and q.current == other and q.position == 1234)(c.get_play_queue()))
            check(f"{t} getUser", lambda: c.get_user(cfg["user"]).username == cfg["user"])
        finally:
            c.cleanup()

    # XML (the default format), by hand: every method, GET and POST, with and without .view.
    xml_methods = [
        ("ping", {}, None), ("getLicense", {}, "license"), ("getOpenSubsonicExtensions", {}, "openSubsonicExtensions"),
        ("getMusicFolders", {}, "musicFolders"), ("getIndexes", {}, "indexes"), ("getArtists", {}, "artists"),
        ("getArtist", {"id": artist}, "artist"), ("getArtistInfo2", {"id": artist}, "artistInfo2"),
        ("getAlbum", {"id": album}, "album"), ("getAlbumInfo2", {"id": album}, "albumInfo"),
        ("getSong", {"id": song}, "song"), ("getGenres", {}, "genres"),
        ("getSongsByGenre", {"genre": genre}, "songsByGenre"), ("getAlbumList2", {"type": "newest"}, "albumList2"),
        ("search3", {"query": cfg["query"]}, "searchResult3"), ("scrobble", {"id": other, "submission": "false"}, None),
        ("getNowPlaying", {}, "nowPlaying"), ("star", {"id": song}, None), ("getStarred2", {}, "starred2"),
        ("unstar", {"id": song}, None), ("setRating", {"id": other, "rating": "4"}, None),
        ("getSimilarSongs", {"id": song, "count": "3"}, "similarSongs"), ("getSimilarSongs2", {"id": artist}, "similarSongs2"),
        ("getTopSongs", {"artist": artist_name}, "topSongs"), ("getRandomSongs", {"size": "2"}, "randomSongs"),
        ("getPlaylists", {}, "playlists"), ("createPlaylist", {"name": "XML", "songId": [song]}, "playlist"),
        ("savePlayQueue", {"id": [song]}, None), ("getPlayQueue", {}, "playQueue"), ("getUser", {"username": cfg["user"]}, "user"),
        ("getFeed", {"count": "3"}, "feed"),
    ]
    for method, params, child in xml_methods:
        for view, post in [(True, True), (False, False)]:
            name = f"[xml {'POST' if post else 'GET'}{' .view' if view else ''}] {method}"

            def xml_check(method=method, params=params, child=child, view=view, post=post):
                status, ctype, body = raw(cfg, method, params, view=view, post=post)
                root = ET.fromstring(body)
                assert status == 200 and "xml" in ctype, (status, ctype)
                assert root.tag == NS + "subsonic-response", root.tag
                assert root.get("status") == "ok", body[:300]
                assert root.get("version") == "1.16.1" and root.get("type") == "spoofify" and root.get("openSubsonic") == "true"
                if child:
                    assert root.find(NS + child) is not None, body[:300]
                return True
            check(name, xml_check)
    # XML list shapes: repeated elements, genre names as text.
    def xml_genres():
        _, _, body = raw(cfg, "getGenres", {})
        names = [g.text for g in ET.fromstring(body).find(NS + "genres").findall(NS + "genre")]
        assert genre in names, names
        return True
    check("[xml] getGenres names", xml_genres)

    # Errors: always HTTP 200 with a code (the library raises them by code).
    def err(expected, fn):
        def run():
            try:
                fn()
            except errors.SonicError as e:
                assert type(e) is errors.getExcByCode(expected), (type(e).__name__, str(e))
                return True
            raise AssertionError("no error")
        return run
    bad = dict(cfg, password="not the password")
    check("error 40 wrong password", err(40, lambda: connect(bad, "enc").ping()))
    check("error 40 wrong token", err(40, lambda: connect(dict(cfg, app_password="nope"), "token").ping()))
    check("error 44 bad api key", err(44, lambda: connect(dict(cfg, api_key="0" * 48), "apikey").ping()))
    c = connect(cfg, "apikey")
    check("error 70 unknown song", err(70, lambda: c.get_song("no-such-song")))
    check("error 70 unknown album", err(70, lambda: c.get_album("al-0000000000000000")))
    c.cleanup()

    def code_of(params, creds):
        status, _, body = raw(cfg, "ping", dict(params, f="json"), creds=creds)
        assert status == 200
        r = json.loads(body)["subsonic-response"]
        return r["status"], r.get("error", {}).get("code")
    check("error 43 api key with user", lambda: code_of({}, dict(apiKey=cfg["api_key"], u=cfg["user"], p=cfg["password"])) == ("failed", 43))
    check("error 10 no credentials", lambda: code_of({}, {}) == ("failed", 10))
    check("error 41 token without app password", lambda: code_of({}, dict(u=cfg["plain_user"], t="00", s="ab")) == ("failed", 41))
    check("error 10 missing id", lambda: json.loads(raw(cfg, "getSong", {"f": "json"})[2])["subsonic-response"]["error"]["code"] == 10)
    return {"checks": checks, "failures": failures}


def listen(cfg):
    c = connect(cfg, cfg.get("auth", "apikey"))
    try:
        for a in cfg["actions"]:
            op = a["op"]
            if op == "now":
                c.scrobble(a["id"], submission=False, listen_time=a["time_ms"] / 1000)
            elif op == "finish":
                c.scrobble(a["id"], submission=True, listen_time=a["time_ms"] / 1000)
            elif op == "star":
                c.star(sids=[a["id"]])
            else:
                raise ValueError(op)
    finally:
        c.cleanup()
    return {"done": len(cfg["actions"])}


def similar(cfg):
    c = connect(cfg, cfg.get("auth", "apikey"))
    try:
        out = {}
        if "id" in cfg:
            out["similar"] = [{"id": s.id, "genre": s.genre} for s in c.get_similar_songs(cfg["id"], count=cfg.get("count", 50))]
        if "artist" in cfg:
            out["similar2"] = [{"id": s.id, "genre": s.genre} for s in c.get_similar_songs2(cfg["artist"], count=cfg.get("count", 50))]
        out["random"] = [{"id": s.id, "genre": s.genre} for s in c.get_random_songs(size=cfg.get("count", 50))]
        return out
    finally:
        c.cleanup()


def stream(cfg):
    import asyncio
    c = connect(cfg, cfg.get("auth", "apikey"))
    try:
        out = {}
        whole = c.stream(cfg["id"])
        out["whole_status"] = whole.status
        out["whole_type"] = whole.headers.get("Content-Type")
        body = asyncio.run_coroutine_threadsafe(whole.read(), c._loop).result(30)
        out["whole_sha256"] = hashlib.sha256(body).hexdigest()
        part = c.stream(cfg["id"], byte_range=cfg["range"])
        out["range_status"] = part.status
        out["content_range"] = part.headers.get("Content-Range")
        body = asyncio.run_coroutine_threadsafe(part.read(), c._loop).result(30)
        out["range_sha256"] = hashlib.sha256(body).hexdigest()
        out["range_len"] = len(body)
        return out
    finally:
        c.cleanup()


def main():
    command, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        cfg = json.load(f)
    out = {"coverage": coverage, "listen": listen, "similar": similar, "stream": stream}[command](cfg)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
