"""Append-only audit log in hash chains: UTC times, pseudonymous ids, never a NIR, code or number.

One chain per person (and one per staff member; the entries about nobody in particular — an identification
with a NIR that is nobody's, a job's count — spread over a few shards of their actor's), each with its own head
row: a write locks only the head of the chain it writes to, so an audited write about one person never waits
for a write about another, and two writes about the same person stay ordered.

Tamper evidence of the whole: `seal()` records a Merkle tree hash (RFC 6962, §2.1) over every chain's head and
signs it with an Ed25519 key that is not in the database. Somebody who can write to the database can rewrite a
chain and its head consistently, or cut its tail and reset its head; they cannot sign the root that would
match, so `check()` finds either against the last signed root.
"""
import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy.dialects import sqlite

from . import clock
from .models import AuditChain, AuditEntry, AuditRoot, db

GENESIS = "0" * 64
SHARDS = 16  # chains for the entries that are about nobody, per actor (anonymous, system, operator…)
PAGE = 5000  # rows read at a time by check(): its memory does not grow with the log


def who(person_id: int | None) -> str:
    return f"person:{person_id}" if person_id is not None else "system"


def chain_of(actor: str, subject: str | None) -> str:
    """The chain an entry goes to: its subject's (a person, a staff member), else its actor's when that is
    somebody, else one of a few shards of the actor's entries (so failures with unknown NIRs do not queue)."""
    if subject:
        return subject
    if actor.startswith(("person:", "staff:")):
        return actor
    return f"{actor}/{secrets.randbelow(SHARDS)}"


def _digest(chain: str, seq: int, prev_hash: str, at, actor: str, subject: str | None, action: str, channel: str,
            details: str) -> str:
    payload = json.dumps([chain, seq, prev_hash, at.isoformat(timespec="microseconds"), actor, subject, action,
                          channel, details], separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _on_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


# PostgreSQL takes a batch as one array a column (unnest): a short statement whatever the batch's size, where a
# multi-row VALUES would be parsed anew each time (psycopg prepares only statements under 4 kB).
_PG_LOCK = db.text(
    "INSERT INTO audit_chain (key, length, last_hash, sealed_length, sealed_hash) "
    "SELECT k, 0, :g, 0, :g FROM unnest(CAST(:keys AS VARCHAR[])) WITH ORDINALITY AS t(k, i) ORDER BY i "
    "ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key RETURNING key, length, last_hash")
# The entries written and their heads moved by one statement (a data-modifying WITH): one round trip.
_PG_WRITE = db.text(
    "WITH e AS (INSERT INTO audit_entry (chain, seq, at, actor, subject, action, channel, details, prev_hash, hash) "
    "SELECT * FROM unnest(CAST(:chain AS VARCHAR[]), CAST(:seq AS INTEGER[]), CAST(:at AS TIMESTAMP[]), "
    "CAST(:actor AS VARCHAR[]), CAST(:subject AS VARCHAR[]), CAST(:action AS VARCHAR[]), "
    "CAST(:channel AS VARCHAR[]), CAST(:details AS TEXT[]), CAST(:prev_hash AS VARCHAR[]), CAST(:hash AS VARCHAR[]))) "
    "UPDATE audit_chain SET length = v.n, last_hash = v.h FROM unnest(CAST(:k AS VARCHAR[]), "
    "CAST(:n AS INTEGER[]), CAST(:h AS VARCHAR[])) AS v(k, n, h) WHERE audit_chain.key = v.k")
# SQLite's, built once (a statement built at each call costs more CPU than the write).
_SQLITE_LOCK = sqlite.insert(AuditChain.__table__)
_SQLITE_LOCK = _SQLITE_LOCK.on_conflict_do_update(index_elements=["key"], set_={"key": _SQLITE_LOCK.excluded.key}
                                                  ).returning(AuditChain.__table__.c.key, AuditChain.__table__.c.length,
                                                              AuditChain.__table__.c.last_hash)


def _lock_heads(keys) -> dict[str, tuple[int, str]]:
    """The heads of these chains (length, last hash), each created if need be and locked until the transaction
    ends: INSERT … ON CONFLICT DO UPDATE takes the row lock (PostgreSQL; on SQLite the first write takes the
    database's) and RETURNING reads the head under it, one statement for a batch of chains. Keys are locked in
    order, so two transactions that write about the same two people cannot deadlock."""
    keys = sorted(set(keys))
    if _on_postgres():
        rows = db.session.execute(_PG_LOCK, {"keys": keys, "g": GENESIS})
    else:
        params = [{"key": k, "length": 0, "last_hash": GENESIS, "sealed_length": 0, "sealed_hash": GENESIS}
                  for k in keys]
        rows = db.session.execute(_SQLITE_LOCK, params[0]) if len(params) == 1 else \
            db.session.connection().execute(_SQLITE_LOCK, params)
    return {key: (length, last) for key, length, last in rows}


def _entry(key: str, head: tuple[int, str], at, actor, subject, action, channel, details: dict) -> dict:
    length, last = head
    text = json.dumps(details, sort_keys=True, default=str, separators=(",", ":"))
    seq = length + 1
    return {"chain": key, "seq": seq, "at": at, "actor": actor, "subject": subject, "action": action,
            "channel": channel, "details": text, "prev_hash": last,
            "hash": _digest(key, seq, last, at, actor, subject, action, channel, text)}


_MOVE = db.update(AuditChain.__table__).where(AuditChain.__table__.c.key == db.bindparam("k")).values(
    length=db.bindparam("n"), last_hash=db.bindparam("h"))


def _move_heads(heads: dict[str, tuple[int, str]]) -> None:
    """append()'s head, and SQLite's batches (PostgreSQL's move with their entries: _PG_WRITE)."""
    db.session.connection().execute(_MOVE, [{"k": k, "n": n, "h": h} for k, (n, h) in heads.items()])


def append(actor: str, subject: str | None, action: str, channel: str, **details) -> AuditEntry:
    """Add one entry inside the caller's transaction; its chain's head stays locked until it commits."""
    key = chain_of(actor, subject)
    head = _lock_heads([key])[key]
    row = _entry(key, head, clock.now(), actor, subject, action, channel, details)
    entry = AuditEntry(**row)
    db.session.add(entry)
    _move_heads({key: (row["seq"], row["hash"])})
    return entry


def append_many(rows) -> int:
    """Add many entries inside the caller's transaction, for batch work (jobs, imports): `rows` is an iterable of
    (actor, subject, action, channel, details dict). One statement locks every head, one inserts the entries.
    Returns how many were added."""
    rows = [(chain_of(actor, subject), actor, subject, action, channel, details)
            for actor, subject, action, channel, details in rows]
    if not rows:
        return 0
    heads = _lock_heads(r[0] for r in rows)
    at = clock.now()
    values = []
    for key, *rest in rows:
        row = _entry(key, heads[key], at, *rest)
        heads[key] = (row["seq"], row["hash"])
        values.append(row)
    if _on_postgres():
        params = {column: [v[column] for v in values] for column in values[0]}
        params.update(k=list(heads), n=[n for n, _ in heads.values()], h=[h for _, h in heads.values()])
        db.session.execute(_PG_WRITE, params)
    else:
        db.session.connection().execute(AuditEntry.__table__.insert(), values)
        _move_heads(heads)
    return len(values)


# --- the signing key (not in the database) -------------------------------------------------------------

@lru_cache(maxsize=4)
def _private_key(text: str | None, path: str | None, fallback: str) -> Ed25519PrivateKey:
    if path:
        with open(path, "rb") as f:
            data = f.read()
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("AUDIT_SIGNING_KEY_FILE is not an Ed25519 private key")
            return key
        text = data.decode().strip()
    if text:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_")
        if len(raw) != 32:
            raise ValueError("AUDIT_SIGNING_KEY must be 32 bytes (base64)")
        return Ed25519PrivateKey.from_private_bytes(raw)
    # The demo and the tests: derived from SECRET_KEY (also kept out of the database); production sets its own.
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(("relais-audit-seal:" + fallback).encode()).digest())


def signing_key() -> Ed25519PrivateKey:
    c = current_app.config
    return _private_key(c.get("AUDIT_SIGNING_KEY"), c.get("AUDIT_SIGNING_KEY_FILE"), c["SECRET_KEY"])


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_keys() -> list[Ed25519PublicKey]:
    """The keys roots are checked with: AUDIT_PUBLIC_KEYS (base64, comma-separated: the published key and
    retired ones) when set — a verifier then needs no secret — else the signing key's own."""
    listed = [k.strip() for k in (current_app.config.get("AUDIT_PUBLIC_KEYS") or "").split(",") if k.strip()]
    if listed:
        return [Ed25519PublicKey.from_public_bytes(base64.b64decode(k + "=" * (-len(k) % 4), altchars=b"-_"))
                for k in listed]
    return [signing_key().public_key()]


def public_key_text(public: Ed25519PublicKey | None = None) -> str:
    return base64.b64encode(_raw(public or signing_key().public_key())).decode()


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


# --- the Merkle tree over the chains' heads (RFC 6962) ------------------------------------------------------

def leaf_hash(key: str, length: int, head_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + json.dumps([key, length, head_hash], separators=(",", ":")).encode()).digest()


class TreeHash:
    """RFC 6962's Merkle tree hash, computed as the leaves come: a stack of complete subtrees (one per set bit of
    the count), so memory is O(log n) however many chains there are."""

    def __init__(self):
        self.stack: list[tuple[int, bytes]] = []  # (size, hash) of complete subtrees, left to right
        self.size = 0

    def add(self, leaf: bytes) -> None:
        size, node = 1, leaf
        while self.stack and self.stack[-1][0] == size:
            left = self.stack.pop()[1]
            node = hashlib.sha256(b"\x01" + left + node).digest()
            size *= 2
        self.stack.append((size, node))
        self.size += 1

    def root(self) -> str:
        if not self.stack:
            return hashlib.sha256(b"").hexdigest()
        node = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):  # the right edge of the tree, folded from the right
            node = hashlib.sha256(b"\x01" + left + node).digest()
        return node.hex()


def _message(root: AuditRoot) -> bytes:
    return json.dumps(["relais-audit-root", root.at.isoformat(timespec="microseconds"), root.chains, root.entries,
                       root.root_hash, root.prev_root], separators=(",", ":")).encode()


def seal() -> AuditRoot:
    """Record and sign the root of the tree over every chain's head, in one transaction (committed).

    A chain held by a write in flight is sealed where it stood at the last seal (SKIP LOCKED on PostgreSQL):
    each leaf is always a true prefix of its chain, and the seal never waits for, nor blocks, the day's writes.
    """
    key = signing_key()
    try:
        from .services.limits import lock
        lock("audit.seal")  # two seals at once take turns
        pending = db.select(AuditChain.key).where(AuditChain.sealed_length != AuditChain.length)
        if db.session.get_bind().dialect.name == "postgresql":
            pending = pending.order_by(AuditChain.key).with_for_update(skip_locked=True)
        db.session.execute(db.update(AuditChain).where(AuditChain.key.in_(pending.scalar_subquery()))
                           .values(sealed_length=AuditChain.length, sealed_hash=AuditChain.last_hash),
                           execution_options={"synchronize_session": False})
        tree, entries = TreeHash(), 0
        for rows in _pages(db.select(AuditChain.key, AuditChain.sealed_length, AuditChain.sealed_hash)
                           .where(AuditChain.sealed_length > 0), (AuditChain.key,)):
            for k, length, head_hash in rows:
                tree.add(leaf_hash(k, length, head_hash))
                entries += length
        last = db.session.scalars(db.select(AuditRoot).order_by(AuditRoot.id.desc()).limit(1)).first()
        root = AuditRoot(at=clock.now(), chains=tree.size, entries=entries, root_hash=tree.root(),
                         prev_root=last.root_hash if last else GENESIS, key_id=key_id(key.public_key()))
        root.signature = key.sign(_message(root)).hex()
        db.session.add(root)
        db.session.commit()
        return root
    except BaseException:
        db.session.rollback()
        raise


def _pages(stmt, order):
    """The rows of `stmt` (columns, not entities) in `order` (the columns of a unique key), a page at a time
    (keyset pagination): no cursor stays open and memory stays bounded, on SQLite and PostgreSQL. Chain keys
    sort by bytes on both (collation "C" on PostgreSQL, see app/models.py), as the tree's leaves are taken."""
    last = None
    while True:
        page = stmt.order_by(*order)
        if last is not None:
            page = page.where(db.tuple_(*order) > db.tuple_(*last))
        rows = db.session.execute(page.limit(PAGE)).all()
        if not rows:
            return
        yield rows
        last = [getattr(rows[-1], c.key) for c in order]
        if len(rows) < PAGE:
            return


# --- verification -----------------------------------------------------------------------------------------

_ENTRY_COLUMNS = (AuditEntry.id, AuditEntry.chain, AuditEntry.seq, AuditEntry.at, AuditEntry.actor,
                  AuditEntry.subject, AuditEntry.action, AuditEntry.channel, AuditEntry.details,
                  AuditEntry.prev_hash, AuditEntry.hash)


@dataclass
class Report:
    ok: bool = True
    entries: int = 0
    chains: int = 0
    roots: int = 0
    problem: str | None = None     # what is wrong, in a sentence
    broken: int | None = None      # the id of the first broken entry, when an entry is
    notes: list[str] = field(default_factory=list)

    def fail(self, problem: str, broken: int | None = None) -> "Report":
        if self.ok:
            self.ok, self.problem, self.broken = False, problem, broken
        return self


def check() -> Report:
    """Walk every chain entry by entry, then every recorded root; the report says the first thing broken.

    Entries and heads are read a page at a time in the same key order and merged, so memory does not grow
    with the log. The last root is recomputed from the entries themselves (each chain's entry at its sealed
    length), so a chain rewritten or cut since that seal is caught even with a matching head."""
    report = Report()
    tree = TreeHash()
    heads = (row for rows in _pages(db.select(AuditChain.key, AuditChain.length, AuditChain.last_hash,
                                               AuditChain.sealed_length), (AuditChain.key,)) for row in rows)
    entries = (row for rows in _pages(db.select(*_ENTRY_COLUMNS), (AuditEntry.chain, AuditEntry.seq))
               for row in rows)
    head = next(heads, None)
    entry = next(entries, None)
    while head is not None or entry is not None:
        if entry is not None and (head is None or entry.chain < head.key):
            return report.fail(f"entry #{entry.id} is in chain {entry.chain}, which has no head",
                               entry.id)
        key, prev, seq, sealed_hash = head.key, GENESIS, 0, None
        report.chains += 1
        while entry is not None and entry.chain == key:
            e = entry
            seq += 1
            if e.seq != seq or e.prev_hash != prev:
                return report.fail(f"chain {key}: entry {seq} is missing or out of order (found #{e.id} at "
                                   f"{e.seq})", e.id)
            if e.hash != _digest(key, e.seq, prev, e.at, e.actor, e.subject, e.action, e.channel, e.details):
                return report.fail(f"chain {key}: entry {seq} (#{e.id}) does not match its hash", e.id)
            if seq == head.sealed_length:
                sealed_hash = e.hash
            prev = e.hash
            report.entries += 1
            entry = next(entries, None)
        if (seq, prev) != (head.length, head.last_hash):
            return report.fail(f"chain {key} ends at entry {seq}, its head says {head.length}: entries removed "
                               "or the head changed")
        if head.sealed_length:
            if sealed_hash is None:
                return report.fail(f"chain {key} is shorter than when it was sealed ({head.sealed_length})")
            tree.add(leaf_hash(key, head.sealed_length, sealed_hash))
        head = next(heads, None)
    return _check_roots(report, tree)


def _check_roots(report: Report, tree: TreeHash) -> Report:
    keys = {key_id(k): k for k in public_keys()}
    prev, last = GENESIS, None
    for rows in _pages(db.select(*AuditRoot.__table__.columns), (AuditRoot.id,)):
        for root in rows:
            public = keys.get(root.key_id)
            if public is None:
                return report.fail(f"root {root.id} of {root.at:%Y-%m-%d %H:%M} is signed by a key not known here "
                                   f"({root.key_id})")
            try:
                public.verify(bytes.fromhex(root.signature), _message(root))
            except (InvalidSignature, ValueError):
                return report.fail(f"root {root.id} of {root.at:%Y-%m-%d %H:%M}: the signature does not match")
            if root.prev_root != prev:
                return report.fail(f"root {root.id}: it does not follow the root before it (a root removed?)")
            if last is not None and (root.chains < last.chains or root.entries < last.entries):
                return report.fail(f"root {root.id} covers less than root {last.id}: entries removed")
            prev, last = root.root_hash, root
            report.roots += 1
    if last is None:
        if tree.size:
            return report.fail("chains were sealed but no signed root is recorded (roots removed)")
        report.notes.append("no root recorded yet (flask audit seal)")
        return report
    if (tree.size, tree.root()) != (last.chains, last.root_hash):
        return report.fail(f"the entries no longer give the last signed root ({last.id} of "
                           f"{last.at:%Y-%m-%d %H:%M}): a sealed chain was rewritten, cut or its seal changed")
    return report


def verify() -> tuple[bool, int, int | None]:
    """(intact, entries checked, id of the first broken entry or None)."""
    report = check()
    return report.ok, report.entries, report.broken
