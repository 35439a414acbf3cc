"""The learner index: a sparse Merkle tree from learner key to that learner's history head.

Why a map and not a list: a transcript must prove *completeness* ("these are all of this learner's
entries up to tree size N"), and a verifier holding only the bundle cannot scan the log. The index
commits, for every learner, to ``(entry count, head index, head leaf hash)``; the per-learner chain
in the leaves links each entry to the previous one, so the head plus the chain pins down the whole
history. A learner that has no entry gets a *non-inclusion* proof.

Shape (history independent: the root depends only on the set of key/value pairs, never on the order
they were inserted, so anyone replaying the log derives the same root):

* key ``k`` = SHA-256(UTF-8 learner key), read as 256 bits, most significant bit first;
* value = ``u64 count || u64 head index || 32-byte head leaf hash`` (big-endian, 48 bytes);
* a subtree holding no key hashes to 32 zero bytes (``EMPTY``);
* a subtree holding exactly one key hashes to ``SHA-256(0x00 || k || SHA-256(value))``, whatever its
  depth (the "compressed" sparse tree of Diem's Jellyfish tree and Meta's AKD), so depth is about
  log2(learners), not 256;
* any other subtree hashes to ``SHA-256(0x01 || left || right)``.

A proof lists the sibling hashes from the root down to the subtree where the key's path ends, and
what is there: the key's own leaf (inclusion), nothing (non-inclusion), or another key's leaf that
shares the path so far (non-inclusion; the proof carries that key and its value hash).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from creditbank.errors import EntryFormatError, ProofError

__all__ = [
    "EMPTY",
    "IndexValue",
    "LearnerIndex",
    "LearnerIndexView",
    "MapProof",
    "learner_key_hash",
    "verify_map_proof",
]

EMPTY = bytes(32)
_MAX_DEPTH = 256
_VALUE = struct.Struct(">QQ32s")


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def learner_key_hash(learner_key: str) -> bytes:
    """The map key of a learner: SHA-256 of its key's UTF-8 bytes."""
    return _sha(learner_key.encode("utf-8"))


@dataclass(frozen=True)
class IndexValue:
    """What the index says about one learner as of some tree size."""

    count: int
    head_index: int
    head_leaf_hash: bytes

    def encode(self) -> bytes:
        return _VALUE.pack(self.count, self.head_index, self.head_leaf_hash)

    @property
    def value_hash(self) -> bytes:
        return _sha(self.encode())

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "head_index": self.head_index,
            "head_leaf_hash": base64.b64encode(self.head_leaf_hash).decode("ascii"),
        }

    @classmethod
    def from_json(cls, obj: Any) -> IndexValue:
        if not isinstance(obj, Mapping) or set(obj) != {"count", "head_index", "head_leaf_hash"}:
            raise EntryFormatError("an index value has count, head_index and head_leaf_hash")
        count, head = obj["count"], obj["head_index"]
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63 for v in (count, head)
        ):
            raise EntryFormatError("index value count and head_index are integers in 0 .. 2^63-1")
        return cls(count, head, _hash_from_b64(obj["head_leaf_hash"], "head_leaf_hash"))


def _hash_from_b64(text: Any, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise EntryFormatError(f"{what} is not base64") from exc
    if len(raw) != 32:
        raise EntryFormatError(f"{what} must be 32 bytes")
    return raw


def _leaf_hash(key: bytes, value_hash: bytes) -> bytes:
    return _sha(b"\x00" + key + value_hash)


def _interior(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right)


def _bit(key_int: int, depth: int) -> int:
    return (key_int >> (255 - depth)) & 1


class _Leaf:
    __slots__ = ("hash", "key", "key_int", "value")

    def __init__(self, key: bytes, value: IndexValue) -> None:
        self.key = key
        self.key_int = int.from_bytes(key, "big")
        self.value = value
        self.hash: bytes | None = None


class _Node:
    __slots__ = ("gen", "hash", "left", "right")

    def __init__(
        self, left: _Leaf | _Node | None, right: _Leaf | _Node | None, gen: int = 0
    ) -> None:
        self.left = left
        self.right = right
        self.gen = gen  # nodes of older generations may be shared with snapshots: never mutated
        self.hash: bytes | None = None


_Tree = _Leaf | _Node | None


def _hash_of(node: _Tree) -> bytes:
    if node is None:
        return EMPTY
    if node.hash is None:
        if isinstance(node, _Leaf):
            node.hash = _leaf_hash(node.key, node.value.value_hash)
        else:
            node.hash = _interior(_hash_of(node.left), _hash_of(node.right))
    return node.hash


def _join(a: _Leaf, b: _Leaf, depth: int, gen: int) -> _Node:
    """The subtree at ``depth`` holding exactly the two leaves ``a`` and ``b``."""
    split = depth
    while _bit(a.key_int, split) == _bit(b.key_int, split):
        split += 1
    left, right = (b, a) if _bit(a.key_int, split) else (a, b)
    node = _Node(left, right, gen)
    for level in range(split - 1, depth - 1, -1):
        node = _Node(None, node, gen) if _bit(a.key_int, level) else _Node(node, None, gen)
    return node


@dataclass(frozen=True)
class MapProof:
    """Sibling hashes root-first, and what ends the key's path (see the module docstring)."""

    siblings: tuple[bytes, ...]
    terminal: Literal["leaf", "empty", "other"]
    other_key: bytes | None = None
    other_value_hash: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "siblings": [base64.b64encode(s).decode("ascii") for s in self.siblings],
            "terminal": self.terminal,
        }
        if self.terminal == "other":
            assert self.other_key is not None and self.other_value_hash is not None
            out["other_key"] = self.other_key.hex()
            out["other_value_hash"] = base64.b64encode(self.other_value_hash).decode("ascii")
        return out

    @classmethod
    def from_json(cls, obj: Any) -> MapProof:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("siblings"), list):
            raise EntryFormatError("a map proof is an object with a list of siblings")
        terminal = obj.get("terminal")
        siblings = tuple(_hash_from_b64(s, "map proof sibling") for s in obj["siblings"])
        if len(siblings) > _MAX_DEPTH:
            raise EntryFormatError("a map proof has at most 256 siblings")
        if terminal in ("leaf", "empty"):
            return cls(siblings, terminal)
        if terminal != "other":
            raise EntryFormatError("map proof terminal must be leaf, empty or other")
        try:
            other = bytes.fromhex(str(obj.get("other_key")))
        except ValueError as exc:
            raise EntryFormatError("map proof other_key is not hex") from exc
        if len(other) != 32:
            raise EntryFormatError("map proof other_key must be 32 bytes")
        return cls(
            siblings,
            "other",
            other,
            _hash_from_b64(obj.get("other_value_hash"), "other_value_hash"),
        )


class LearnerIndexView:
    """One immutable version of the map: its root and proofs. Cheap to keep (shared subtrees)."""

    def __init__(self, root: _Tree = None, size: int = 0) -> None:
        self._root = root
        self._size = size

    def __len__(self) -> int:
        return self._size

    def root(self) -> bytes:
        return _hash_of(self._root)

    def prove(self, learner_key: str) -> tuple[IndexValue | None, MapProof]:
        """The learner's value (``None`` if absent) and the proof of it against :meth:`root`."""
        key = learner_key_hash(learner_key)
        key_int = int.from_bytes(key, "big")
        self.root()
        siblings: list[bytes] = []
        node: _Tree = self._root
        depth = 0
        while isinstance(node, _Node):
            if _bit(key_int, depth):
                siblings.append(_hash_of(node.left))
                node = node.right
            else:
                siblings.append(_hash_of(node.right))
                node = node.left
            depth += 1
        if node is None:
            return None, MapProof(tuple(siblings), "empty")
        if node.key == key:
            return node.value, MapProof(tuple(siblings), "leaf")
        return None, MapProof(tuple(siblings), "other", node.key, node.value.value_hash)


class LearnerIndex(LearnerIndexView):
    """The map, updated in place; :meth:`snapshot` freezes the current version in O(1)."""

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[bytes, IndexValue] = {}
        self._gen = 1

    def __len__(self) -> int:
        return len(self._values)

    def get(self, learner_key: str) -> IndexValue | None:
        return self._values.get(learner_key_hash(learner_key))

    def items(self) -> Iterable[tuple[bytes, IndexValue]]:
        return self._values.items()

    def record(self, learner_key: str, index: int, leaf_hash: bytes) -> IndexValue:
        """Account one more entry of this learner, at ``index`` with ``leaf_hash``."""
        key = learner_key_hash(learner_key)
        old = self._values.get(key)
        value = IndexValue((old.count if old else 0) + 1, index, leaf_hash)
        self.set(key, value)
        return value

    def set(self, key: bytes, value: IndexValue) -> None:
        if len(key) != 32:
            raise ValueError("map keys are 32 bytes")
        self._values[key] = value
        new = _Leaf(key, value)
        gen = self._gen
        parent: _Node | None = None
        node: _Tree = self._root
        depth = 0
        # Walk down; a node of this generation is changed in place, an older one (perhaps in a
        # snapshot) is copied first. Between snapshots every update is in place.
        while isinstance(node, _Node):
            if node.gen != gen:
                node = _Node(node.left, node.right, gen)
                self._attach(parent, depth, new.key_int, node)
            else:
                node.hash = None
            parent = node
            node = node.right if _bit(new.key_int, depth) else node.left
            depth += 1
        if node is None or node.key == key:
            replacement: _Leaf | _Node = new
        else:
            replacement = _join(node, new, depth, gen)
        self._attach(parent, depth, new.key_int, replacement)

    def _attach(self, parent: _Node | None, depth: int, key_int: int, child: _Leaf | _Node) -> None:
        if parent is None:
            self._root = child
        elif _bit(key_int, depth - 1):
            parent.right = child
        else:
            parent.left = child

    def snapshot(self) -> LearnerIndexView:
        """Freeze the current version (O(1)): later updates copy the nodes they touch."""
        self._gen += 1
        return LearnerIndexView(self._root, len(self._values))


def verify_map_proof(
    root: bytes, learner_key: str, value: IndexValue | None, proof: MapProof
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows ``learner_key`` maps to ``value`` (``None``:
    the learner is absent) in the map with ``root``."""
    key = learner_key_hash(learner_key)
    key_int = int.from_bytes(key, "big")
    depth = len(proof.siblings)
    if value is not None:
        if proof.terminal != "leaf":
            raise ProofError(f"the map proof shows no entry for learner {learner_key}")
        current = _leaf_hash(key, value.value_hash)
    elif proof.terminal == "empty":
        current = EMPTY
    elif proof.terminal == "other":
        assert proof.other_key is not None and proof.other_value_hash is not None
        other = int.from_bytes(proof.other_key, "big")
        if other == key_int or (depth and (other ^ key_int) >> (256 - depth)):
            raise ProofError("the map proof's other leaf does not share this learner's path")
        current = _leaf_hash(proof.other_key, proof.other_value_hash)
    else:
        raise ProofError(f"the map proof claims an entry for learner {learner_key}")
    for level in range(depth - 1, -1, -1):
        sibling = proof.siblings[level]
        if _bit(key_int, level):
            current = _interior(sibling, current)
        else:
            current = _interior(current, sibling)
    if current != root:
        raise ProofError(f"the map proof for learner {learner_key} does not lead to the index root")
