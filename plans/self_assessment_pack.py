"""The pack for the ministry: a round's items as one ZIP.

``self-assessment-YEAR.xlsx`` holds one row per component (code, name, max points,
self-assessed points, figures, status, presiding unit, evidence file names and links), and the
evidence files follow in one folder per indicator code, under the names the units gave them
(made unique within the folder). Cells go through the exports' sanitising (``printable``,
``escape_formula``).

Memory stays flat whatever the files weigh: the workbook is written in openpyxl's write-only
mode, and each evidence file is copied into the archive in chunks from its storage; callers
pass a file (a temporary file for a download), not a buffer.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

from django.utils.translation import gettext as _

from plans.models import SelfAssessmentEvidence, SelfAssessmentItem, SelfAssessmentRound
from plans.reports.exports import Table, xlsx_bytes
from plans.self_assessment import items_for_pack

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PackStats:
    items: int
    files: int
    missing: list[str]  # evidence files named in the database but gone from the storage


def _folder(code: str) -> str:
    """An indicator code as a folder name: "7.1" stays, anything a file system dislikes
    becomes "_"."""
    safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in code).strip(".")
    return safe or "_"


def _unique(name: str, taken: set[str]) -> str:
    path = PurePath(name.replace("/", "_").replace("\\", "_") or "file")
    candidate, number = path.name, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{path.stem} ({number}){path.suffix}"
    taken.add(candidate.lower())
    return candidate


def _archive_names(items: list[SelfAssessmentItem]) -> dict[int, str]:
    """Each evidence file's path inside the archive, by evidence id."""
    names: dict[int, str] = {}
    taken: dict[str, set[str]] = {}
    for item in items:
        folder = _folder(item.indicator.code)
        for evidence in item.evidence.all():
            if evidence.file:
                name = _unique(evidence.original_name or "file", taken.setdefault(folder, set()))
                names[evidence.pk] = f"{folder}/{name}"
    return names


def pack_table(items: list[SelfAssessmentItem], names: dict[int, str]) -> Table:
    def evidence_cell(evidence: list[SelfAssessmentEvidence]) -> str:
        return "\n".join(
            names.get(e.pk, "").rsplit("/", 1)[-1] if e.file else e.link for e in evidence
        )

    rows = [
        [
            item.indicator.code,
            item.indicator.name_vi,
            item.max_points,
            item.points,
            item.figures,
            item.get_status_display(),
            item.unit.name if item.unit else "",
            evidence_cell(list(item.evidence.all())),
        ]
        for item in items
    ]
    return Table(
        title=_("Self-assessment"),
        headers=[
            _("Code"),
            _("Indicator"),
            _("Max points"),
            _("Self-assessed points"),
            _("Figures"),
            _("Status"),
            _("Presiding unit"),
            _("Evidence"),
        ],
        rows=rows,
        widths=[8, 60, 10, 12, 50, 14, 30, 50],
    )


def pack_write(*, round: SelfAssessmentRound, out: BinaryIO) -> PackStats:
    """Write the round's pack as a ZIP into ``out`` (a file opened for writing)."""
    items = list(items_for_pack(round))
    names = _archive_names(items)
    missing: list[str] = []
    files = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        workbook = xlsx_bytes([pack_table(items, names)])
        archive.writestr(f"self-assessment-{round.year}.xlsx", workbook)
        for item in items:
            for evidence in item.evidence.all():
                if evidence.pk not in names:
                    continue
                try:
                    source = evidence.file.open("rb")
                except FileNotFoundError:
                    missing.append(names[evidence.pk])
                    continue
                with source, archive.open(names[evidence.pk], "w", force_zip64=True) as target:
                    shutil.copyfileobj(source, target, CHUNK)
                files += 1
    return PackStats(items=len(items), files=files, missing=missing)


def pack_bytes(*, round: SelfAssessmentRound) -> bytes:
    """The pack in memory: for tests and small rounds only."""
    buffer = io.BytesIO()
    pack_write(round=round, out=buffer)
    return buffer.getvalue()
