"""Benchmark: import the district's forms — every department's 申报表 and 自评表 of one year
(~2,000 projects) — against two floors: reading the same workbooks with gongkai's reader alone
(forms/read.py: the forms found, their values parsed, nothing checked or stored), and reading
only their cells with python-calamine.

    .venv/bin/python -m bench.forms [--database postgres|sqlite] [--scale district|town]
    make bench-forms [BENCH_DB=sqlite]

The workbooks are the export of the demo (one 申报表 and one 自评表 workbook per department).
Measured, interleaved, on a fresh copy of the demo database per round:

- reader: forms.read.read_workbook reads every workbook into forms, as the import does first;
- cells: python-calamine opens every workbook and reads every visible sheet's cells;
- first import: the year's targets and self-assessments are deleted first, so the import
  creates them all (reading, checks, writes and audit entries, one transaction per workbook);
- re-import: the same workbooks again, all unchanged (reading, checks, the comparison).

Each is timed by the wall clock and by the process's CPU time (which the machine's other load
disturbs less). Memory: tracemalloc's peak over a whole first import of 12, 24, 48 and all of
the workbooks — read one at a time as the CLI reads them — to show how it grows with their
number; and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import python_calamine

from bench.publish import drop_database, peak_rss_mib, prepare_database
from forms import from_storage
from forms.read import ReadResult, read_workbook
from forms.write import workbook_bytes
from schema.internal.context import InternalContext
from schema.internal.imports import Outcome, import_forms
from schema.internal.permissions import Caller
from storage import database, models
from storage.enums import DepartmentTier

YEAR = 2024
OPERATOR = Caller("bench", ("admin",), None, False)


async def export(folder: Path) -> tuple[list[Path], int]:
    paths, count = [], 0
    for department in await models.Department.filter(tier=DepartmentTier.DEPARTMENT).order_by(
        "code"
    ):
        subjects = await models.Subject.filter(
            department_id=department.id, fiscal_year=YEAR
        ).order_by("kind", "code")
        for label, forms in (
            ("target", await from_storage.target_forms(subjects)),
            ("assessment", await from_storage.assessment_forms(subjects)),
        ):
            if forms:
                path = folder / f"{department.code}-{label}.xlsx"
                path.write_bytes(workbook_bytes(forms))
                paths.append(path)
                count += len(forms)
    return paths, count


def cells(paths: list[Path]) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return time.perf_counter() - started, time.process_time() - cpu


def reader(paths: list[Path]) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    for result in read(paths):
        assert result.forms and not result.problems, result.problems[:3]
    return time.perf_counter() - started, time.process_time() - cpu


def read(paths: list[Path]) -> Iterator[ReadResult]:
    """Each workbook read when the import asks for it, as `gongkai import` reads them."""
    for p in paths:
        yield read_workbook(p.read_bytes(), p.name, YEAR)


async def run_import(paths: list[Path]) -> tuple[float, float, Outcome]:
    started, cpu = time.perf_counter(), time.process_time()
    outcome = await import_forms(InternalContext(caller=OPERATOR), read(paths))
    assert not outcome.problems, outcome.problems[:3]
    return time.perf_counter() - started, time.process_time() - cpu, outcome


async def clear_year() -> None:
    assessments = models.SelfAssessment.filter(fiscal_year=YEAR)
    ids = await assessments.values_list("id", flat=True)
    await models.SelfAssessmentRow.filter(assessment_id__in=ids).delete()
    await assessments.delete()
    targets = models.PerformanceTarget.filter(fiscal_year=YEAR)
    await models.Indicator.filter(target_id__in=await targets.values_list("id", flat=True)).delete()
    await targets.delete()


async def memory(paths: list[Path]) -> list[tuple[int, float, int]]:
    """tracemalloc's peak over a first import of the first 12, 24, 48 … workbooks."""
    out = []
    for count in (12, 24, 48, len(paths)):
        await clear_year()
        tracemalloc.start()
        _, _, outcome = await run_import(paths[:count])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.append((count, peak / 2**20, outcome.forms))
    return out


def _mean(timings: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        sum(wall for wall, _ in timings) / len(timings),
        sum(cpu for _, cpu in timings) / len(timings),
    )


def _seconds(timing: tuple[float, float]) -> str:
    return f"{timing[0]:.2f} s (CPU {timing[1]:.2f} s)"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--scale", choices=("district", "town"), default="district")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths: list[Path] = []
        peaks: list[tuple[int, float, int]] = []
        forms = 0
        for round_ in range(args.rounds):
            url = await prepare_database(args.database, args.scale)
            try:
                async with database.connected(url):
                    if not paths:
                        paths, forms = await export(folder)
                        size = sum(p.stat().st_size for p in paths)
                        print(f"{len(paths)} workbooks, {forms} forms, {size / 2**20:.1f} MiB")
                    load = os.getloadavg()[0]
                    # Interleaved: each import between a reading of each floor.
                    floors = [reader(paths), cells(paths)]
                    await clear_year()
                    first = await run_import(paths)
                    floors += [reader(paths), cells(paths)]
                    again = await run_import(paths)
                    floors += [reader(paths), cells(paths)]
                    if round_ == args.rounds - 1:
                        peaks = await memory(paths)
            finally:
                await drop_database(url)
            # Each floor: the mean of its readings in this round.
            floor_reader = _mean(floors[0::2])
            floor_cells = _mean(floors[1::2])
            print(
                f"round {round_ + 1} (load {load:.1f}): "
                f"reader {_seconds(floor_reader)}, cells {_seconds(floor_cells)}",
                flush=True,
            )
            for label, (wall, cpu, outcome) in (("first import", first), ("re-import", again)):
                print(
                    f"  {label} {_seconds((wall, cpu))} "
                    f"({outcome.created} created, {outcome.updated} updated, "
                    f"{outcome.unchanged} unchanged) = "
                    f"{wall / floor_reader[0]:.1f}× the reader (CPU {cpu / floor_reader[1]:.1f}×), "
                    f"{wall / floor_cells[0]:.1f}× the cells (CPU {cpu / floor_cells[1]:.1f}×)",
                    flush=True,
                )
        for count, peak, counted in peaks:
            print(
                f"first import of {count} workbooks ({counted} forms): "
                f"tracemalloc peak {peak:.1f} MiB"
            )
    print(f"peak RSS {peak_rss_mib():.0f} MiB; load average after: {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
