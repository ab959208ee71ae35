"""audit chains per person with their own heads, and signed Merkle roots

The single chain (one head row every audited write locked) is checked link by link on the way: a broken link
stops the migration and nothing changes. Each entry then goes to its chain (its subject's; else its actor's
when that is a person or a staff member; else a shard of its actor's), gets its place in it and a hash of the
new form, and each chain gets its head. One last entry, in the system's first shard, records how many entries
the old chain had and its last hash. The first signed root is recorded by the next `jobs run` or `audit seal`.

Revision ID: e8f1a3c5b702
Revises: d4b7e2a9c613
Create Date: 2026-12-02 07:45:00

"""
import hashlib
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = 'e8f1a3c5b702'
down_revision = 'd4b7e2a9c613'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
SHARDS = 16
PAGE = 5000
KEY = sa.String(length=60).with_variant(sa.String(length=60, collation="C"), "postgresql")

# The two forms of an entry's hash as they were when this migration was written (app/audit.py may move on).


def _old_digest(prev_hash, at, actor, subject, action, channel, details):
    payload = json.dumps([prev_hash, at.isoformat(timespec="microseconds"), actor, subject, action, channel, details],
                         separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _new_digest(chain, seq, prev_hash, at, actor, subject, action, channel, details):
    payload = json.dumps([chain, seq, prev_hash, at.isoformat(timespec="microseconds"), actor, subject, action,
                          channel, details], separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _when(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


COLUMNS = "id, at, actor, subject, action, channel, details, prev_hash, hash"


def _verify_single_chain(conn):
    """Every link of the old chain, in id order, a page at a time; the head must be the last hash."""
    prev, count, last_id = GENESIS, 0, 0
    while True:
        rows = conn.execute(sa.text(f"SELECT {COLUMNS} FROM audit_entry WHERE id > :last ORDER BY id LIMIT {PAGE}"),
                            {"last": last_id}).all()
        for r in rows:
            if r.prev_hash != prev or r.hash != _old_digest(prev, _when(r.at), r.actor, r.subject, r.action,
                                                            r.channel, r.details):
                raise RuntimeError(f"audit chain broken at entry {r.id} (after {count} intact entries): the "
                                   "migration stops and nothing is changed; look into it before upgrading")
            prev, count, last_id = r.hash, count + 1, r.id
        if len(rows) < PAGE:
            break
    head = conn.execute(sa.text("SELECT last_hash FROM audit_head WHERE id = 1")).scalar()
    if (head or GENESIS) != prev:
        raise RuntimeError(f"the audit head does not match the last of {count} entries: entries were removed; "
                           "the migration stops and nothing is changed")
    return count, prev


def _rechain(conn):
    """Each entry's chain and place in it, and the new hashes: pages in (chain, id) order, one chain at a time."""
    text_type = "VARCHAR" if conn.dialect.name == "postgresql" else "TEXT"
    conn.execute(sa.text(
        "UPDATE audit_entry SET chain = CASE WHEN subject IS NOT NULL AND subject <> '' THEN subject "
        "WHEN actor LIKE 'person:%' OR actor LIKE 'staff:%' THEN actor "
        f"ELSE actor || '/' || CAST(id % {SHARDS} AS {text_type}) END"))
    collate = ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""
    chain, seq, prev = None, 0, GENESIS
    last = ("", 0)
    heads = []
    update = sa.text("UPDATE audit_entry SET seq = :seq, prev_hash = :prev, hash = :hash WHERE id = :id")
    while True:
        rows = conn.execute(sa.text(
            f"SELECT chain, {COLUMNS} FROM audit_entry WHERE (chain{collate}, id) > (:chain, :id) "
            f"ORDER BY chain{collate}, id LIMIT {PAGE}"), {"chain": last[0], "id": last[1]}).all()
        changes = []
        for r in rows:
            if r.chain != chain:
                if chain is not None:
                    heads.append({"key": chain, "length": seq, "last_hash": prev})
                chain, seq, prev = r.chain, 0, GENESIS
            seq += 1
            digest = _new_digest(chain, seq, prev, _when(r.at), r.actor, r.subject, r.action, r.channel, r.details)
            changes.append({"seq": seq, "prev": prev, "hash": digest, "id": r.id})
            prev = digest
            last = (r.chain, r.id)
        if changes:
            conn.execute(update, changes)
        if len(heads) >= PAGE or (len(rows) < PAGE and heads):
            _write_heads(conn, heads)
            heads = []
        if len(rows) < PAGE:
            break
    if chain is not None:
        _write_heads(conn, [{"key": chain, "length": seq, "last_hash": prev}])


def _write_heads(conn, heads):
    conn.execute(sa.text("INSERT INTO audit_chain (key, length, last_hash, sealed_length, sealed_hash) "
                         f"VALUES (:key, :length, :last_hash, 0, '{GENESIS}')"), heads)


def _record_migration(conn, count, old_head):
    key = "system/0"
    head = conn.execute(sa.text("SELECT length, last_hash FROM audit_chain WHERE key = :k"), {"k": key}).first()
    length, prev = (head.length, head.last_hash) if head else (0, GENESIS)
    at = datetime.now(timezone.utc).replace(tzinfo=None)
    details = json.dumps({"entries": count, "old_head": old_head}, sort_keys=True, separators=(",", ":"))
    digest = _new_digest(key, length + 1, prev, at, "system", None, "audit.rechained", "cli", details)
    conn.execute(sa.text("INSERT INTO audit_entry (chain, seq, at, actor, subject, action, channel, details, "
                         "prev_hash, hash) VALUES (:chain, :seq, :at, 'system', NULL, 'audit.rechained', 'cli', "
                         ":details, :prev, :hash)"),
                 {"chain": key, "seq": length + 1, "at": at, "details": details, "prev": prev, "hash": digest})
    if head:
        conn.execute(sa.text("UPDATE audit_chain SET length = :l, last_hash = :h WHERE key = :k"),
                     {"l": length + 1, "h": digest, "k": key})
    else:
        _write_heads(conn, [{"key": key, "length": 1, "last_hash": digest}])


def upgrade():
    conn = op.get_bind()
    count, old_head = _verify_single_chain(conn)
    op.create_table('audit_chain',
                    sa.Column('key', KEY, nullable=False),
                    sa.Column('length', sa.Integer(), nullable=False),
                    sa.Column('last_hash', sa.String(length=64), nullable=False),
                    sa.Column('sealed_length', sa.Integer(), nullable=False),
                    sa.Column('sealed_hash', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('key'))
    op.create_table('audit_root',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.Column('chains', sa.Integer(), nullable=False),
                    sa.Column('entries', sa.BigInteger(), nullable=False),
                    sa.Column('root_hash', sa.String(length=64), nullable=False),
                    sa.Column('prev_root', sa.String(length=64), nullable=False),
                    sa.Column('key_id', sa.String(length=16), nullable=False),
                    sa.Column('signature', sa.String(length=128), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', KEY, nullable=True))
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
    _rechain(conn)
    if count:
        _record_migration(conn, count, old_head)
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.alter_column('chain', existing_type=KEY, nullable=False)
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint('uq_audit_entry_chain_seq', ['chain', 'seq'])
    op.drop_table('audit_head')


def downgrade():
    """Back to one chain in id order (the entries' order of writing), re-hashed in the old form, with its head."""
    conn = op.get_bind()
    op.create_table('audit_head',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('last_hash', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    prev, last_id = GENESIS, 0
    update = sa.text("UPDATE audit_entry SET prev_hash = :prev, hash = :hash WHERE id = :id")
    while True:
        rows = conn.execute(sa.text(f"SELECT {COLUMNS} FROM audit_entry WHERE id > :last ORDER BY id LIMIT {PAGE}"),
                            {"last": last_id}).all()
        changes = []
        for r in rows:
            digest = _old_digest(prev, _when(r.at), r.actor, r.subject, r.action, r.channel, r.details)
            changes.append({"prev": prev, "hash": digest, "id": r.id})
            prev, last_id = digest, r.id
        if changes:
            conn.execute(update, changes)
        if len(rows) < PAGE:
            break
    if last_id:
        conn.execute(sa.text("INSERT INTO audit_head (id, last_hash) VALUES (1, :h)"), {"h": prev})
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_entry_chain_seq', type_='unique')
        batch_op.drop_column('seq')
        batch_op.drop_column('chain')
    op.drop_table('audit_root')
    op.drop_table('audit_chain')
