"""PostGraphile 5 over the same published rows, for bench/public_api.py: what a portal team would
point at the database instead of gongkai's API.

PostGraphile reads a schema of its own, `pgl`, of three views over `disclosure` under the same
current-row rule (schema/rows.py): projects, departments and targets, with the columns query (a)
and (b) ask for, their primary keys and relations as smart tags. It is installed from npm into
`var/bench/postgraphile/` (gitignored) on the first run; without Node and npm the benchmark says
so and goes on without it.
"""

# The SQL below is fixed text (the current-row rule of schema/rows.py); nothing comes from input.
# ruff: noqa: S608

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from schema.rows import current

VERSION = "5.1.5"
ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "var" / "bench" / "postgraphile"

VIEWS = f"""
DROP SCHEMA IF EXISTS pgl CASCADE;
CREATE SCHEMA pgl;
CREATE VIEW pgl.project AS
  SELECT d.record_key AS key, d.data->>'code' AS code, d.data->>'name' AS name,
         (d.data->>'fiscalYear')::int AS fiscal_year, d.data->>'budgetBook' AS budget_book,
         d.subject_kind, d.data->>'departmentName' AS department_name,
         d.data->'amounts'->'initial'->>'total' AS initial_total,
         d.data->'amounts'->'fullYear'->>'total' AS full_year_total,
         d.data->'amounts'->'executed'->>'total' AS executed_total,
         d.jurisdiction_code || '/' || (d.data->>'departmentCode') AS department_key
  FROM disclosure d WHERE d.record_type = 'SUBJECT' AND {current("d")};
CREATE VIEW pgl.department AS
  SELECT d.record_key AS key, d.data->>'code' AS code, d.data->>'name' AS name
  FROM disclosure d WHERE d.record_type = 'DEPARTMENT' AND {current("d")};
CREATE VIEW pgl.target AS
  SELECT d.record_key AS key, d.subject_key, d.data->>'overallGoal' AS overall_goal,
         (SELECT jsonb_agg(jsonb_build_object(
             'position', i->'position', 'level1', i->'level1', 'level2', i->'level2',
             'name', i->'name', 'nature', i->'nature', 'comparator', i->'comparator',
             'targetValue', i->'targetValue', 'unit', i->'unit', 'weight', i->'weight',
             'core', i->'core') ORDER BY n)
          FROM jsonb_array_elements(d.data->'indicators') WITH ORDINALITY AS e(i, n))
           AS indicators
  FROM disclosure d WHERE d.record_type = 'TARGET' AND {current("d")};
COMMENT ON VIEW pgl.department IS E'@primaryKey key';
COMMENT ON VIEW pgl.project IS
  E'@primaryKey key\\n@foreignKey (department_key) references pgl.department (key)';
COMMENT ON VIEW pgl.target IS
  E'@primaryKey key\\n@unique subject_key\\n@foreignKey (subject_key) references pgl.project (key)';
"""

SERVER = """
// PostGraphile 5 asks for Node >= 22; on Node 20 the one newer API its query path uses,
// Promise.withResolvers, is filled in before it loads.
if (!Promise.withResolvers) {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new this((yes, no) => { resolve = yes; reject = no; });
    return { promise, resolve, reject };
  };
}
const { createServer } = await import("node:http");
const { postgraphile } = await import("postgraphile");
const { PostGraphileAmberPreset } = await import("postgraphile/presets/amber");
const { makePgService } = await import("postgraphile/adaptors/pg");
const { grafserv } = await import("postgraphile/grafserv/node");

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["pgl"] }),
  ],
  grafserv: { graphiql: false, watch: false, graphqlOverGET: true },
  grafast: { explain: false },
};
const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
serv.addTo(server).then(() => server.listen(Number(process.env.PORT), "127.0.0.1"),
  (error) => { console.error(error); process.exit(1); });
"""

PAGE = """query Page {
  allProjects(first: 100, orderBy: KEY_ASC, condition: {subjectKind: "PROJECT"}) {
    pageInfo { hasNextPage endCursor }
    nodes {
      key code name fiscalYear budgetBook initialTotal fullYearTotal executedTotal
      departmentByDepartmentKey { code name }
      targetBySubjectKey { overallGoal indicators }
    }
  }
}"""

LOOKUP = """query Lookup($key: String!) {
  projectByKey(key: $key) {
    key code name fiscalYear departmentName initialTotal executedTotal
    departmentByDepartmentKey { name }
    targetBySubjectKey { overallGoal }
  }
}"""


def install() -> Path | None:
    """The folder with PostGraphile installed, or None (with the reason printed) without Node."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("PostGraphile: skipped — Node.js and npm are not installed (its rows are left out)")
        return None
    marker = FOLDER / "node_modules" / "postgraphile" / "package.json"
    if not marker.exists():
        print(f"PostGraphile: installing postgraphile@{VERSION} from npm into {FOLDER} …")
        FOLDER.mkdir(parents=True, exist_ok=True)
        (FOLDER / "package.json").write_text('{"private": true, "type": "module"}\n')
        subprocess.run(  # noqa: S603
            ["npm", "install", "--no-audit", "--no-fund", f"postgraphile@{VERSION}"],  # noqa: S607
            cwd=FOLDER,
            check=True,
            capture_output=True,
        )
    (FOLDER / "server.mjs").write_text(SERVER)
    return FOLDER


def same_page(gongkai: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Query (a) from gongkai and from PostGraphile hold the same rows and values."""
    ours = gongkai["subjects"]
    other = theirs["allProjects"]
    if ours["pageInfo"]["hasNextPage"] != other["pageInfo"]["hasNextPage"]:
        return False
    if len(ours["nodes"]) != len(other["nodes"]):
        return False
    for a, b in zip(ours["nodes"], other["nodes"], strict=True):
        amounts = a["amounts"]
        totals = [None if amounts[k] is None else amounts[k]["total"] for k in AMOUNT_ROWS]
        target = a["target"]
        their_target = b["targetBySubjectKey"]
        if (
            [a["key"], a["code"], a["name"], a["fiscalYear"], a["budgetBook"], *totals]
            != [
                *(b["key"], b["code"], b["name"], b["fiscalYear"], b["budgetBook"]),
                *(b["initialTotal"], b["fullYearTotal"], b["executedTotal"]),
            ]
            or a["department"] != b["departmentByDepartmentKey"]
            or (target is None) != (their_target is None)
        ):
            return False
        if target is not None and (
            target["overallGoal"] != their_target["overallGoal"]
            or target["indicators"] != their_target["indicators"]
        ):
            return False
    return True


AMOUNT_ROWS = ("initial", "fullYear", "executed")


def same_lookup(gongkai: dict[str, Any], theirs: dict[str, Any]) -> bool:
    a, b = gongkai["node"], theirs["projectByKey"]
    amounts = a["amounts"]
    return bool(
        [a["key"], a["code"], a["name"], a["fiscalYear"], a["departmentName"]]
        == [b["key"], b["code"], b["name"], b["fiscalYear"], b["departmentName"]]
        and amounts["initial"]["total"] == b["initialTotal"]
        and (amounts["executed"] or {}).get("total") == b["executedTotal"]
        and a["department"] == b["departmentByDepartmentKey"]
        and (a["target"] or {}).get("overallGoal")
        == (b["targetBySubjectKey"] or {}).get("overallGoal")
    )
