"""The README as a new user reads it: its links stay inside the repository, its example
queries find something in the demo with the variables it shows, its internal API one-liner
works, and its tables name every command and every mutation's result type."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from graphql import GraphQLUnionType, get_named_type

from api import cli
from api.app import create_app
from api.settings import Settings
from schema.context import Context
from schema.internal.schema import build as build_internal
from schema.public.schema import build as build_public
from storage import database
from tests.conftest import DEMO_SCALE, PublishedDemo

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize(
    "name", ["README.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))]
)
def test_links_stay_inside_the_repository_and_resolve(name: str) -> None:
    path = ROOT / name if name == "README.md" else ROOT / "docs" / name
    links = LINK.findall(path.read_text(encoding="utf-8"))
    if name == "README.md":
        assert {
            "docs/architecture.md",
            "docs/domain.md",
            "docs/decisions.md",
            "docs/operations.md",
        } <= set(links)
    for link in links:
        if re.match(r"[a-z]+:", link):  # http(s):, mailto: — outside the repository on purpose
            continue
        target = (path.parent / link.split("#")[0]).resolve()
        assert target.is_relative_to(ROOT), f"{name} links outside the repository: {link}"
        assert target.exists(), f"{name} links to a missing file: {link}"


def examples() -> list[tuple[str, dict[str, object]]]:
    """Each ```graphql block with the ```json variables block that follows it."""
    found = re.findall(r"```graphql\n(.*?)```\s*```json\n(.*?)```", README, re.DOTALL)
    return [(query, orjson.loads(variables)) for query, variables in found]


def test_every_example_query_shows_its_variables() -> None:
    queries = re.findall(r"```graphql\n", README)
    assert len(examples()) == len(queries) >= 3


@pytest.mark.skipif(
    DEMO_SCALE != "town",
    reason="the README's variables name the town demo; this session publishes the district",
)
async def test_the_examples_find_something_in_the_demo(published_demo: PublishedDemo) -> None:
    """The variables name the town demo that `make run` loads; the PostgreSQL session publishes
    the district instead (D18), whose codes differ."""
    schema = build_public()
    async with database.connected(published_demo.url):
        for query, variables in examples():
            result = await schema.execute(query, variable_values=variables, context_value=Context())
            assert result.errors is None, (query, result.errors)
            flat = orjson.dumps(result.data)
            assert b"[]" not in flat and b'"totalCount":0' not in flat, (query, result.data)


async def test_the_internal_one_liner_works(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`TOKEN=$(.venv/bin/gongkai token …)` and the curl after it, as the README shows them."""
    command = re.search(r"TOKEN=\$\(\.venv/bin/gongkai (token [^)]*)\)", README)
    assert command
    body = re.search(
        r"curl -s http://127\.0\.0\.1:8000/internal/graphql .*?-d '([^']*)'", README, re.DOTALL
    )
    assert body
    monkeypatch.chdir(tmp_path)
    for name in ("JWT_KEY", "JWT_JWKS_FILE", "ENV"):
        monkeypatch.delenv(f"GONGKAI_{name}", raising=False)
    assert cli.main(shlex.split(command[1])) == 0
    token = capsys.readouterr().out.strip()
    settings, _ = cli.serving_settings(
        Settings(database_url=db, store_url=f"file://{tmp_path / 'store'}"), "127.0.0.1", 8000
    )
    await database.close()
    try:
        async with LifespanManager(create_app(settings)) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                response = await client.post(
                    "/internal/graphql",
                    content=body[1],
                    headers={
                        "authorization": f"Bearer {token}",
                        "content-type": "application/json",
                    },
                )
    finally:
        await database.init(db, global_fallback=True)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.json()


def test_the_command_table_lists_every_command() -> None:
    table = sections(README)["Commands"]
    listed = set(re.findall(r"^\| `gongkai ([a-z-]+)", table, re.MULTILINE))
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    assert listed == set(commands.choices)  # type: ignore[arg-type]


def test_the_mutation_result_types_are_listed() -> None:
    schema = build_internal()._schema
    assert schema.mutation_type is not None
    expected = set()
    for name, field in schema.mutation_type.fields.items():
        union = get_named_type(field.type)
        assert isinstance(union, GraphQLUnionType)
        expected.add((union.name, union.types[0].name, name))
    listed = set()
    for line in sections(README)["Internal API"].splitlines():
        match = re.match(r"- `(\w+Result)`: `(\w+)` \([^)]*\) — (.*)$", line)
        if match:
            listed |= {(match[1], match[2], m) for m in re.findall(r"`(\w+)`", match[3])}
    assert listed == expected
