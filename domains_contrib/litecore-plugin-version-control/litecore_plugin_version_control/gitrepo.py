"""Build git repositories as bytes, in pure Python, byte-identical for the same inputs.

Task environments are plain file copies (the Dockerfile only COPYs), so a task
that needs history ships its ``.git`` folder as files. Running the ``git``
binary at generation time would tie the bytes to its version and leave stat
data in the index; writing the objects ourselves (loose, zlib level 9), the refs,
the reflogs and an index with zeroed stat fields gives the same bytes on every
host. Git re-hashes files whose stat data does not match, so ``git status`` of
the shipped work tree is clean.

:class:`Repo` simulates what a developer did (commits, branches, checkouts,
resets, deletions) and records reflogs along the way, so recovery tasks find
the traces a real repository would have.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Mapping

import attrs

#: A snapshot: path -> (mode, content); modes are "100644" or "100755".
Snapshot = dict[str, tuple[str, bytes]]
ZERO = "0" * 40


@attrs.frozen
class Person:
    name: str
    email: str

    def ident(self, when: int, tz: str) -> str:
        return f"{self.name} <{self.email}> {when} {tz}"


def _obj(kind: str, body: bytes) -> tuple[str, bytes]:
    raw = f"{kind} {len(body)}\0".encode() + body
    return hashlib.sha1(raw).hexdigest(), raw


_PACK_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}


def pack(objects: Mapping[str, bytes]) -> tuple[str, bytes, bytes]:
    """A version 2 pack of whole (undeltified) objects and its version 2 index: (name, .pack, .idx).

    One pack instead of hundreds of loose objects keeps the environment a handful of files.
    """
    shas = sorted(objects)
    data = bytearray(b"PACK" + struct.pack(">II", 2, len(shas)))
    crcs, offsets = [], []
    for sha in shas:
        head, body = objects[sha].split(b"\0", 1)
        size = len(body)
        byte = _PACK_TYPES[head.split(b" ")[0]] << 4 | size & 0x0F
        size >>= 4
        entry = bytearray()
        while size:
            entry.append(byte | 0x80)
            byte = size & 0x7F
            size >>= 7
        entry.append(byte)
        entry += zlib.compress(body, 9)
        crcs.append(zlib.crc32(entry))
        offsets.append(len(data))
        data += entry
    data += hashlib.sha1(data).digest()
    counts = [0] * 256
    for sha in shas:
        counts[int(sha[:2], 16)] += 1
    idx = bytearray(b"\377tOc" + struct.pack(">I", 2))
    total = 0
    for n in counts:
        total += n
        idx += struct.pack(">I", total)
    idx += b"".join(bytes.fromhex(sha) for sha in shas)
    idx += b"".join(struct.pack(">I", crc) for crc in crcs)
    idx += b"".join(struct.pack(">I", off) for off in offsets)
    idx += data[-20:]
    idx += hashlib.sha1(idx).digest()
    return data[-20:].hex(), bytes(data), bytes(idx)


def default_mode(path: str) -> str:
    # litecore's task writer makes every *.sh executable: track them that way
    return "100755" if path.endswith(".sh") else "100644"


@attrs.define
class Repo:
    """An in-memory repository that records objects, refs and reflogs."""

    user: Person
    clock: int = 1_700_000_000
    tz: str = "+0000"
    objects: dict[str, bytes] = attrs.field(factory=dict)
    snapshots: dict[str, Snapshot] = attrs.field(factory=dict)
    messages: dict[str, str] = attrs.field(factory=dict)
    parents: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    refs: dict[str, str] = attrs.field(factory=dict)
    logs: dict[str, list[str]] = attrs.field(factory=dict)
    head: str = "main"  # the checked-out branch (HEAD is never detached here)
    config_extra: str = ""

    # -- objects ---------------------------------------------------------
    def store(self, kind: str, body: bytes) -> str:
        sha, raw = _obj(kind, body)
        self.objects.setdefault(sha, raw)
        return sha

    def blob(self, data: bytes) -> str:
        return self.store("blob", data)

    def tree(self, snap: Mapping[str, tuple[str, bytes]]) -> str:
        """Write nested trees for a flat snapshot; returns the root tree sha."""
        children: dict[str, dict[str, tuple[str, bytes]]] = {}
        entries: list[tuple[str, str, str]] = []  # (sort key, mode, name) -> sha
        shas: dict[str, str] = {}
        for path, (mode, data) in snap.items():
            head, sep, rest = path.partition("/")
            if sep:
                children.setdefault(head, {})[rest] = (mode, data)
            else:
                shas[head] = self.blob(data)
                entries.append((head, mode, head))
        for name, sub in children.items():
            shas[name] = self.tree(sub)
            entries.append((name + "/", "40000", name))
        body = b"".join(
            f"{mode} {name}".encode() + b"\0" + bytes.fromhex(shas[name])
            for _, mode, name in sorted(entries, key=lambda e: e[0].encode())
        )
        return self.store("tree", body)

    def tick(self, seconds: int) -> int:
        self.clock += seconds
        return self.clock

    def make_commit(self, snap: Snapshot, message: str, parents: tuple[str, ...], *,
                    author: Person | None = None, when: int | None = None) -> str:
        when = self.clock if when is None else when
        who = author or self.user
        lines = [f"tree {self.tree(snap)}"] + [f"parent {p}" for p in parents]
        lines += [f"author {who.ident(when, self.tz)}", f"committer {who.ident(when, self.tz)}"]
        msg = message if message.endswith("\n") else message + "\n"
        sha = self.store("commit", ("\n".join(lines) + "\n\n" + msg).encode())
        self.snapshots[sha] = dict(snap)
        self.messages[sha] = msg
        self.parents[sha] = parents
        return sha

    def annotated_tag(self, name: str, target: str, message: str, *, when: int | None = None) -> str:
        when = self.clock if when is None else when
        body = (f"object {target}\ntype commit\ntag {name}\ntagger {self.user.ident(when, self.tz)}\n\n"
                f"{message.rstrip()}\n")
        sha = self.store("tag", body.encode())
        self.refs[f"refs/tags/{name}"] = sha
        return sha

    # -- porcelain simulation ---------------------------------------------
    def _log(self, ref: str, old: str, new: str, msg: str) -> None:
        self.logs.setdefault(ref, []).append(f"{old} {new} {self.user.ident(self.clock, self.tz)}\t{msg}\n")

    def head_sha(self) -> str:
        return self.refs.get(f"refs/heads/{self.head}", ZERO)

    def snapshot(self, sha: str | None = None) -> Snapshot:
        sha = sha or self.head_sha()
        return dict(self.snapshots.get(sha, {}))

    def commit(self, changes: Mapping[str, str | bytes | None], message: str, *, seconds: int = 600,
               author: Person | None = None, extra_parents: tuple[str, ...] = (),
               reflog: str | None = None) -> str:
        """Commit on the current branch: ``changes`` maps path -> new content (None deletes)."""
        self.tick(seconds)
        old = self.head_sha()
        snap = self.snapshot(old) if old != ZERO else {}
        for path, data in changes.items():
            if data is None:
                snap.pop(path, None)
            else:
                raw = data.encode() if isinstance(data, str) else data
                mode = snap[path][0] if path in snap else default_mode(path)
                snap[path] = (mode, raw)
        parents = ((old,) if old != ZERO else ()) + extra_parents
        sha = self.make_commit(snap, message, parents, author=author)
        subject = message.splitlines()[0]
        kind = reflog or ("commit (initial)" if old == ZERO else ("commit (merge)" if extra_parents else "commit"))
        self._move_head(old, sha, f"{kind}: {subject}")
        return sha

    def _move_head(self, old: str, new: str, msg: str) -> None:
        ref = f"refs/heads/{self.head}"
        self.refs[ref] = new
        self._log(ref, old, new, msg)
        self._log("HEAD", old, new, msg)

    def branch(self, name: str, at: str | None = None) -> None:
        at = at or self.head_sha()
        self.refs[f"refs/heads/{name}"] = at
        self._log(f"refs/heads/{name}", ZERO, at, f"branch: Created from {self.head}")

    def checkout(self, name: str, *, create: bool = False) -> None:
        self.tick(30)
        old_name = self.head
        old = self.head_sha()
        if create:
            self.branch(name)
        self.head = name
        self._log("HEAD", old, self.head_sha(), f"checkout: moving from {old_name} to {name}")

    def reset_hard(self, target: str) -> None:
        self.tick(60)
        old = self.head_sha()
        self._move_head(old, target, f"reset: moving to {target}")

    def delete_branch(self, name: str) -> None:
        self.refs.pop(f"refs/heads/{name}")
        self.logs.pop(f"refs/heads/{name}", None)

    def merge(self, other: str, snap: Snapshot, message: str) -> str:
        """Record a merge commit whose tree the caller resolved."""
        self.tick(300)
        old = self.head_sha()
        sha = self.make_commit(snap, message, (old, self.refs[f"refs/heads/{other}"]))
        self._move_head(old, sha, f"merge {other}: Merge made by the 'ort' strategy.")
        return sha

    # -- output --------------------------------------------------------------
    def git_files(self, *, packed: bool = False) -> dict[str, bytes]:
        """The ``.git`` folder (paths relative to it) for the current HEAD's work tree.

        ``packed``: every object in one pack (as after ``git gc``) rather than loose.
        """
        out: dict[str, bytes] = {}
        if packed:
            name, data, idx = pack(self.objects)
            out[f"objects/pack/pack-{name}.pack"] = data
            out[f"objects/pack/pack-{name}.idx"] = idx
        else:
            for sha, raw in self.objects.items():
                out[f"objects/{sha[:2]}/{sha[2:]}"] = zlib.compress(raw, 9)
        for ref, sha in self.refs.items():
            out[ref] = (sha + "\n").encode()
        for ref, lines in self.logs.items():
            out[f"logs/{ref}"] = "".join(lines).encode()
        out["HEAD"] = f"ref: refs/heads/{self.head}\n".encode()
        out["config"] = (
            "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"
            "\tlogallrefupdates = true\n"
            f"[user]\n\tname = {self.user.name}\n\temail = {self.user.email}\n" + self.config_extra
        ).encode()
        out["description"] = b"Unnamed repository; edit this file to name the repository.\n"
        out["info/exclude"] = b"# git ls-files --others --exclude-from=.git/info/exclude\n"
        out["index"] = self.index(self.snapshot())
        return dict(sorted(out.items()))

    def index(self, snap: Snapshot) -> bytes:
        """A version 2 index with zeroed stat data (git re-checks content, so status is clean)."""
        body = b""
        for path in sorted(snap, key=lambda p: p.encode()):
            mode, data = snap[path]
            name = path.encode()
            entry = struct.pack(">10I", 0, 0, 0, 0, 0, 0, int(mode, 8), 0, 0, len(data))
            entry += bytes.fromhex(hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest())
            entry += struct.pack(">H", min(len(name), 0xFFF)) + name
            entry += b"\0" * (8 - (len(entry) % 8))
            body += entry
        data = b"DIRC" + struct.pack(">II", 2, len(snap)) + body
        return data + hashlib.sha1(data).digest()

    def app_files(self, root: str, *, packed: bool = False) -> tuple[dict[str, str | bytes], tuple[str, ...]]:
        """Work tree + ``.git`` under ``root`` (relative to /app), and the executable paths."""
        files: dict[str, str | bytes] = {}
        execs: list[str] = []
        prefix = f"{root}/" if root else ""
        for path, (mode, data) in sorted(self.snapshot().items()):
            files[prefix + path] = data
            if mode == "100755":
                execs.append(prefix + path)
        for rel, data in self.git_files(packed=packed).items():
            files[f"{prefix}.git/{rel}"] = data
        return files, tuple(execs)


def tree_sha(snap: Mapping[str, tuple[str, bytes]]) -> str:
    """The tree hash git would give this snapshot (for expected values in hidden tests)."""
    return Repo(user=Person("x", "x@x")).tree(snap)
