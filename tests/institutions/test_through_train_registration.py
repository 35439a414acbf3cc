"""Issue 12 item 4 at registration: a through-train block outside 40-60% is refused (422)."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.world import World, unique


def test_a_four_credit_through_train_block_is_refused(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world = sqlite_world
    block = next(m for m in world.catalog.mappings if m.mode.value == "through_train")
    owner = world.owner_of(block)
    data = block.to_json()
    data["mapping_id"] = unique("TT-SMALL")
    data["version"] = 1
    data["targets"] = data["targets"][:1]  # one course: far below 40% of the programme
    answer = sqlite_http.post(
        "/v1/mappings",
        json=owner.post_json("mapping.registered", {"mapping": data}),
        headers=world.bearer(owner.token),
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"].endswith("catalogue-conflict")
    assert "less than the lower bound" in problem["detail"]
    whole = block.to_json() | {"mapping_id": unique("TT-WHOLE"), "version": 1}
    accepted = sqlite_http.post(
        "/v1/mappings",
        json=owner.post_json("mapping.registered", {"mapping": whole}),
        headers=world.bearer(owner.token),
    )
    assert accepted.status_code == 201, accepted.text
