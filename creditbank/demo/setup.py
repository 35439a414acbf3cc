"""What the demo created, as ``demo-credentials.json`` holds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CREDENTIALS_FILE",
    "DATABASE_FILE",
    "DEMO_ORIGIN",
    "LOG_KEY",
    "DemoActor",
    "DemoLearner",
    "DemoSetup",
]

DEMO_ORIGIN = "demo.creditbank.example/log"
CREDENTIALS_FILE = "demo-credentials.json"
DATABASE_FILE = "creditbank.db"
LOG_KEY = "log.key"


@dataclass(frozen=True)
class DemoActor:
    actor_id: str
    role: str
    name: str
    token: str
    private_key_path: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "actor_id": self.actor_id,
            "name": self.name,
            "token": self.token,
            "private_key_path": str(self.private_key_path),
        }


@dataclass(frozen=True)
class DemoLearner:
    learner_id: str
    name: str
    token: str
    story: str

    def to_json(self) -> dict[str, Any]:
        return {
            "learner_id": self.learner_id,
            "name": self.name,
            "token": self.token,
            "story": self.story,
        }


@dataclass(frozen=True)
class DemoSetup:
    """What the demo created; :meth:`to_json` is ``demo-credentials.json``."""

    data_dir: Path
    base_url: str
    verifier_key: str
    admin: DemoActor
    providers: tuple[DemoActor, ...]
    registrars: tuple[DemoActor, ...]
    learners: tuple[DemoLearner, ...]
    programmes: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / DATABASE_FILE}"

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "database_url": self.database_url,
            "log": {
                "origin": DEMO_ORIGIN,
                "verifier_key": self.verifier_key,
                "private_key_path": str(self.data_dir / "keys" / LOG_KEY),
            },
            "admin": self.admin.to_json(),
            "providers": [p.to_json() for p in self.providers],
            "registrars": [r.to_json() for r in self.registrars],
            "learners": [learner.to_json() for learner in self.learners],
            "programmes": self.programmes,
        }

    @classmethod
    def from_json(cls, data_dir: Path, obj: dict[str, Any], base_url: str) -> DemoSetup:
        def actor(item: dict[str, Any], role: str) -> DemoActor:
            return DemoActor(
                item["actor_id"],
                role,
                item.get("name", item["actor_id"]),
                item["token"],
                Path(item["private_key_path"]),
            )

        return cls(
            data_dir=data_dir,
            base_url=base_url,
            verifier_key=obj["log"]["verifier_key"],
            admin=actor(obj["admin"], "admin"),
            providers=tuple(actor(p, "provider") for p in obj["providers"]),
            registrars=tuple(actor(r, "registrar") for r in obj["registrars"]),
            learners=tuple(
                DemoLearner(item["learner_id"], item["name"], item["token"], item.get("story", ""))
                for item in obj["learners"]
            ),
            programmes=dict(obj.get("programmes", {})),
        )
