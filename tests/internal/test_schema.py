"""The internal schema as a contract: its committed SDL, and connections that offer `nodes` as
the public ones do."""

from __future__ import annotations

import re
from pathlib import Path

from schema.internal.schema import build
from tests.internal.conftest import Api, World, token

SCHEMA = build()
SDL = Path(__file__).resolve().parents[2] / "schema" / "internal.graphql"


def test_the_committed_sdl_is_current() -> None:
    assert SDL.read_text(encoding="utf-8") == SCHEMA.as_str() + "\n", (
        "regenerate with: .venv/bin/python -m schema.internal.export"
    )


def test_every_connection_offers_nodes() -> None:
    sdl = SCHEMA.as_str()
    connections = re.findall(r"type (\w+Connection) \{(.*?)\n\}", sdl, re.DOTALL)
    assert len(connections) >= 10
    for name, body in connections:
        node = name.removesuffix("Connection")
        assert f"nodes: [{node}!]!" in body, name
        assert f"edges: [{node}Edge!]!" in body, name


async def test_nodes_are_the_edges_nodes_in_order(api: Api, world: World) -> None:
    query = """{ subjects(first: 1) { totalCount edges { cursor node { id name } }
                 nodes { id name } pageInfo { hasNextPage endCursor } } }"""
    body = await api(token("finance_officer"), query)
    assert "errors" not in body, body
    page = body["data"]["subjects"]
    assert len(page["nodes"]) == 1 < page["totalCount"]
    assert page["nodes"] == [edge["node"] for edge in page["edges"]]
    after = await api(
        token("finance_officer"),
        "query($after: String) { subjects(first: 100, after: $after) { nodes { id } } }",
        {"after": page["pageInfo"]["endCursor"]},
    )
    rest = [node["id"] for node in after["data"]["subjects"]["nodes"]]
    assert len(rest) == page["totalCount"] - 1
    assert not {node["id"] for node in page["nodes"]} & set(rest)
