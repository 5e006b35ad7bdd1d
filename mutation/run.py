"""Mutation testing of the modules where a silent change would break the law or security.

    .venv/bin/python -m mutation.run [MODULE ...] [--jobs N] [--fail-under PERCENT]
                                     [--survivors-only] [--report-only DIR]

For each module, cosmic-ray (https://cosmic-ray.readthedocs.io) makes every mutant its operators
allow, and runs against each one the module's tests that execute the statement it changed
(mutation/covering.py), so that a run takes minutes. A mutant the tests still pass on
"survived": either a test is missing, or the mutant is equivalent (behaves like the original),
which `mutation/equivalent.toml` records with the reason after review.

cosmic-ray's local distributor rewrites the module on disk while the tests run. It works here on
a copy of the worktree (tracked and untracked files, uncommitted edits included), so an
interrupted run never leaves a mutant in the real tree. The session databases land in
var/mutation/ (see docs/testing.md). The tests run with CI=1, so property tests are
derandomised (decisions.md D19) and a mutant is killed or not the same way every time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import random
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutation import covering, record

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "mutation"
EQUIVALENT = Path(__file__).with_name("equivalent.toml")

RELEASES = "tests/publishers/test_releases.py"
CRASH = "tests/publishers/test_withdrawal_crash.py"

#: Kill-and-rerun cases of the withdrawal: real processes, killed at a step (one a step that
#: resumes from the intent's lists). The whole crash matrix would take an hour over every mutant.
WITHDRAWAL_CRASHES = (
    f"{CRASH}::test_a_withdrawal_killed_at_any_step_on_s3_is_finished_by_a_rerun[objects-deleted]",
    f"{CRASH}::test_a_withdrawal_killed_at_any_step_on_s3_is_finished_by_a_rerun"
    "[manifests-rewritten+2]",
    f"{CRASH}::test_a_withdrawal_killed_at_any_step_in_a_folder_is_finished_by_a_rerun"
    "[orphans-removed+3]",
    f"{CRASH}::test_a_whole_department_withdrawal_killed_is_finished_by_a_rerun[s3-republished]",
    f"{CRASH}::test_the_scan_sees_what_a_plain_delete_leaves_in_old_versions",
    f"{CRASH}::test_withdraw_names_a_release_a_live_worker_holds_and_does_the_rest",
    f"{CRASH}::test_gongkai_withdraw_exits_1_only_for_blocked_releases",
)

#: Module → the pytest arguments that select the tests covering it. Each mutant runs, of these,
#: the ones that execute the statement it changed (mutation/covering.py). `--noconftest` where
#: the tests need no database: the root conftest imports the publisher, a second and a half of
#: every one of several hundred runs. Longest run first, so that the modules run two at a time
#: finish close together.
MODULES: dict[str, tuple[str, ...]] = {
    # test_input_rules.py (a database) covers the text and column limits added by issue 11.
    "storage/validation.py": (
        "tests/storage/test_record_checks.py",
        "tests/internal/test_input_rules.py",
    ),
    "api/auth.py": (
        "--noconftest",
        "tests/api/test_auth.py",
        # The HTTP tests (the `client` fixture) need a database; the verifier's own tests cover
        # the module. Deselected by name: a new HTTP test in test_auth.py needs adding here.
        "-k",
        "not 401 and not 431 and not reaches_the_internal_schema and not in_the_url",
    ),
    # The withdrawal path: the in-process withdrawals of test_releases.py, the scans, and some
    # of the kill-and-rerun cases.
    "publishers/withdrawal.py": (
        "tests/publishers/test_withdrawal_steps.py",
        f"{RELEASES}::test_a_filing_after_publication_withdraws_every_version",
        f"{RELEASES}::test_a_whole_department_filed_after_publication_disappears",
        *WITHDRAWAL_CRASHES,
    ),
    "publishers/rules.py": ("--noconftest", "tests/publishers/test_rules.py"),
    "schema/limits.py": ("--noconftest", "tests/schema/test_limits.py"),
    "storage/scoring.py": ("--noconftest", "tests/storage/test_scoring.py"),
    "storage/money.py": ("--noconftest", "tests/storage/test_money.py"),
}

#: Tests that run the module in a child process, where coverage in the test's own process does
#: not see it: every mutant of the module runs them, after the tests selected by coverage.
ALWAYS: dict[str, tuple[str, ...]] = {"publishers/withdrawal.py": WITHDRAWAL_CRASHES}

#: Operators left out, to keep a run within minutes on two cores. Arithmetic keeps its inverse
#: (+ ↔ -, * ↔ /) and / ↔ //: a test of a sum or a ratio kills + → * exactly when it kills
#: + → -, so the other replacements, and power, modulo, shifts and bitwise operators (a
#: TypeError on Decimal, or a wildly wrong number), would multiply the run time and test
#: nothing more. An order comparison turned into `is` compares the identities of numbers, which
#: no rule does. (`==` ↔ `is` is kept: rules.py compares enum values with `==` on purpose.)
EXCLUDED_OPERATORS = (
    r"core/ReplaceBinaryOperator_\w+_(Pow|Mod|RShift|LShift|BitOr|BitAnd|BitXor)$",
    r"core/ReplaceBinaryOperator_(Pow|Mod|RShift|LShift|BitOr|BitAnd|BitXor)_\w+$",
    r"core/ReplaceBinaryOperator_(Add|Sub)_(Mul|Div|FloorDiv)$",
    r"core/ReplaceBinaryOperator_(Mul|Div|FloorDiv)_(Add|Sub)$",
    r"core/ReplaceBinaryOperator_Mul_FloorDiv$",
    r"core/ReplaceBinaryOperator_FloorDiv_Mul$",
    r"core/ReplaceComparisonOperator_(Lt|LtE|Gt|GtE)_(Is|IsNot)$",
)


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    operator: str
    before: str
    after: str
    outcome: str  # killed | survived | incompetent
    diff: str
    occurrence: int = 0  # which application of the operator in the module (cosmic-ray's)

    def key(self) -> tuple[str, str, str, str]:
        return (self.module, self.operator, self.before, self.after)


@dataclass(frozen=True)
class Equivalent:
    module: str
    operator: str
    before: str
    after: str
    reason: str
    #: Not equivalent, but left alive on purpose (the reason says why): counted as a survivor.
    accepted: bool = False


def load_equivalents() -> dict[tuple[str, str, str, str], Equivalent]:
    entries = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8")).get("equivalent", [])
    found = {}
    for entry in entries:
        eq = Equivalent(
            entry["module"],
            entry["operator"],
            entry["before"],
            entry["after"],
            entry["reason"],
            entry.get("accepted", False),
        )
        found[(eq.module, eq.operator, eq.before, eq.after)] = eq
    return found


def copy_tree(target: Path) -> None:
    """The worktree as it is now: tracked and untracked files, without what git ignores."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        source = ROOT / raw.decode()
        if not source.is_file():  # deleted but not yet committed
            continue
        destination = target / raw.decode()
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)


def changed_lines(diff: str) -> tuple[str, str]:
    """The first removed and added lines of a mutant's diff, stripped: what the mutant changed."""
    before = after = ""
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-") and not before:
            before = line[1:].strip()
        elif line.startswith("+") and not after:
            after = line[1:].strip()
    return before, after


def session_path(module: str, out: Path = OUT) -> Path:
    return out / (module.removesuffix(".py").replace("/", ".") + ".sqlite")


def run_module(
    module: str,
    tests: tuple[str, ...],
    tree: Path,
    survivors_only: bool = False,
    sample: set[tuple[str, int]] | None = None,
) -> list[Mutant]:
    """Make and test every mutant of `module` in `tree`; the outcome of each. With
    `survivors_only`, only those that survived the last run, if the module is unchanged since;
    with `sample`, only the mutants it names by (operator, occurrence)."""
    name = module.removesuffix(".py").replace("/", ".")
    python = sys.executable
    OUT.mkdir(parents=True, exist_ok=True)
    plan = OUT / f"{name}.tests.json"
    # Each mutant runs the tests that execute the statement it changed (mutation/covering.py).
    command = shlex.join([python, "-m", "mutation.covering", str(plan)])
    env = {**os.environ, **covering.ENV}

    started = time.monotonic()
    baseline = covering.write_map(module, tests, ALWAYS.get(module, ()), tree, plan)
    if baseline.returncode != 0:
        sys.exit(f"{module}: the tests fail before any mutation:\n{baseline.stdout[-3000:]}")
    # A mutant that loops forever is killed by the timeout; a loaded machine may take several
    # times the unmutated run (here measured under coverage), so the bound is generous.
    timeout = max(60.0, 10 * (time.monotonic() - started))

    session = session_path(module)
    stamp = OUT / f"{name}.sha256"
    digest = hashlib.sha256((tree / module).read_bytes()).hexdigest()
    again = (
        survivors_only
        and sample is None
        and session.exists()
        and stamp.exists()
        and stamp.read_text() == digest
    )
    if again:
        # Killed mutants stay killed while the module is unchanged and tests are only added:
        # test the survivors again, nothing else.
        with sqlite3.connect(session) as db:
            db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
    else:
        session.unlink(missing_ok=True)
        stamp.write_text(digest)
    config = OUT / f"{name}.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module)}\n"
        f"timeout = {timeout:.0f}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = {json.dumps(list(EXCLUDED_OPERATORS))}\n",
        encoding="utf-8",
    )
    bin_dir = Path(python).parent
    steps = [
        [str(bin_dir / "cosmic-ray"), "init", str(config), str(session)],
        [str(bin_dir / "cr-filter-operators"), str(session), str(config)],
        [str(bin_dir / "cosmic-ray"), "exec", str(config), str(session)],
    ]
    for step in steps[2:] if again else steps:
        if sample is not None and step is steps[2]:
            keep_only(session, sample)
        subprocess.run(step, cwd=tree, env=env, check=True, capture_output=True)

    mutants, pending = read_session(module, session)
    if pending:
        sys.exit(f"{module}: {pending} mutants were not run")
    return mutants


def keep_only(session: Path, sample: set[tuple[str, int]]) -> None:
    """Drop from a fresh session every mutant that `sample` does not name."""
    with sqlite3.connect(session) as db:
        specs = db.execute("SELECT job_id, operator_name, occurrence FROM mutation_specs")
        doomed = [
            (job,) for job, operator, occurrence in specs if (operator, occurrence) not in sample
        ]
        db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", doomed)
        db.executemany("DELETE FROM work_items WHERE job_id = ?", doomed)


def read_session(module: str, session: Path) -> tuple[list[Mutant], int]:
    """The mutants tested in a session, and how many are still pending."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome

    mutants = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            (spec,) = item.mutations
            before, after = changed_lines(result.diff or "")
            outcome = "killed" if result.is_killed else "survived"
            if result.worker_outcome != WorkerOutcome.NORMAL:
                outcome = "incompetent"
            mutants.append(
                Mutant(
                    module,
                    spec.start_pos[0],
                    spec.operator_name,
                    before,
                    after,
                    outcome,
                    result.diff or "",
                    spec.occurrence,
                )
            )
        pending = len(list(db.pending_work_items))
    return sorted(mutants, key=lambda m: (m.line, m.operator, m.after)), pending


def report(
    module: str,
    mutants: list[Mutant],
    seconds: float,
    equivalents: dict[tuple[str, str, str, str], Equivalent],
) -> float:
    """Print the module's score and every survivor; return the score in percent."""
    killed = sum(m.outcome == "killed" for m in mutants)
    survivors = [m for m in mutants if m.outcome == "survived"]
    listed = {m: equivalents.get(m.key()) for m in survivors}
    equivalent = [m for m, e in listed.items() if e is not None and not e.accepted]
    accepted = [m for m, e in listed.items() if e is not None and e.accepted]
    live = [m for m, e in listed.items() if e is None]
    broken = [m for m in mutants if m.outcome == "incompetent"]
    scored = len(mutants) - len(equivalent) - len(broken)
    score = 100.0 * killed / scored if scored else 100.0
    print(
        f"{module}: {score:.1f}% killed ({killed} of {scored}; {len(equivalent)} equivalent, "
        f"{len(accepted)} accepted, {len(broken)} incompetent) in {seconds:.0f} s"
    )
    for m in live:
        print(f"  SURVIVED {module}:{m.line} {m.operator}\n    - {m.before}\n    + {m.after}")
    for m in accepted:
        print(f"  ACCEPTED {module}:{m.line} {m.operator}: {m.after}")
    for m in broken:
        print(f"  INCOMPETENT {module}:{m.line} {m.operator}: {m.after}")
    return score


def check_sample(
    module: str, mutants: list[Mutant], seconds: float, entry: dict[str, Any], fail_under: float
) -> bool:
    """Report a `--ci` run of recorded kills; True if it fails."""
    alive = [m for m in mutants if m.outcome != "killed"]
    print(
        f"{module}: {entry['score']:.1f}% killed, as recorded ({len(entry['killed'])} of "
        f"{entry['mutants']} mutants killed, the others reviewed as equivalent; the module, its "
        f"tests and what they import are unchanged since); {len(mutants) - len(alive)} of "
        f"{len(mutants)} sampled kills reproduced in {seconds:.0f} s"
    )
    for m in alive:
        print(f"  NOT KILLED NOW {module}:{m.line} {m.operator}\n    - {m.before}\n    + {m.after}")
    return bool(alive) or entry["score"] < fail_under


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=", ".join(MODULES))
    parser.add_argument(
        "--fail-under", type=float, default=0.0, help="exit 1 if a module scores below this %%"
    )
    parser.add_argument(
        "--survivors-only",
        action="store_true",
        help="test again only the mutants that survived the last run (of an unchanged module)",
    )
    parser.add_argument(
        "--report-only",
        metavar="DIR",
        type=Path,
        help="run nothing: report the sessions in DIR (var/mutation for the last run)",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="modules tested at once, each in its own copy"
    )
    parser.add_argument(
        "--ci",
        type=int,
        metavar="N",
        help="where mutation/recorded.json matches the module and its tests, take its score and "
        "run N of its killed mutants to show they still die; elsewhere run the whole module",
    )
    args = parser.parse_args(argv)
    # Stopped from outside, still remove the copies (a mutant may be on disk in one).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Mutants run on one backend: the kill matrices that `make test` pairs each with its own
    # backend (tests/conftest.py) run here on it as well, so no crash test a mutant needs skips.
    os.environ.setdefault("GONGKAI_KILL_MATRICES", "all")
    modules = args.modules or list(MODULES)
    unknown = sorted(set(modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown modules {unknown}; known: {', '.join(MODULES)}")
    equivalents = load_equivalents()
    if args.report_only:
        for module in modules:
            mutants, pending = read_session(module, session_path(module, args.report_only))
            report(module, mutants, 0.0, equivalents)
            if pending:
                print(f"  ({pending} mutants not run yet)")
        return 0
    digests = {
        module: record.digest(module, MODULES[module], EXCLUDED_OPERATORS) for module in modules
    }
    recorded = record.load()
    samples: dict[str, set[tuple[str, int]]] = {}
    if args.ci is not None:
        for module in modules:
            entry = recorded.get(module)
            if entry is not None and entry["digest"] == digests[module]:
                killed = sorted(record.parse_kill(kill) for kill in entry["killed"])
                chosen = random.Random(digests[module]).sample(killed, min(args.ci, len(killed)))
                samples[module] = set(chosen)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gongkai-mutation-") as scratch:
        trees: queue.Queue[Path] = queue.Queue()
        for n in range(max(1, min(args.jobs, len(modules)))):
            tree = Path(scratch) / str(n)
            copy_tree(tree)
            trees.put(tree)

        def run(module: str) -> tuple[list[Mutant], float]:
            tree = trees.get()
            try:
                began = time.monotonic()
                sample = samples.get(module)
                mutants = run_module(module, MODULES[module], tree, args.survivors_only, sample)
                print(f"… {module} done", flush=True)
                return mutants, time.monotonic() - began
            finally:
                trees.put(tree)

        with ThreadPoolExecutor(max_workers=trees.qsize()) as pool:
            results = dict(zip(modules, pool.map(run, modules), strict=True))

    failed = False
    survived: set[tuple[str, str, str, str]] = set()
    for module in modules:
        mutants, seconds = results[module]
        if module in samples:
            failed |= check_sample(module, mutants, seconds, recorded[module], args.fail_under)
            continue
        survived.update(m.key() for m in mutants if m.outcome == "survived")
        score = report(module, mutants, seconds, equivalents)
        failed |= score < args.fail_under
        if recorded.get(module, {}).get("digest") != digests[module]:
            print("  recorded in mutation/recorded.json: commit it with the change")
        record.save(
            module,
            {
                "digest": digests[module],
                "score": round(score, 1),
                "mutants": len(mutants),
                "killed": sorted(
                    record.kill(m.operator, m.occurrence) for m in mutants if m.outcome == "killed"
                ),
            },
        )
    print(f"total: {time.monotonic() - started:.0f} s")
    # An entry whose mutant is gone or now killed was wrong or is out of date: say so.
    full = [module for module in modules if module not in samples]
    stale = [e for k, e in equivalents.items() if e.module in full and k not in survived]
    for entry in stale:
        print(f"STALE equivalent entry (no such surviving mutant): {entry}")
    return 1 if failed or stale else 0


if __name__ == "__main__":
    sys.exit(main())
