"""The attack battery on spreadsheet imports: tiny files that expand (a 5 KB XLSX whose one
cell sits at XFD1048576; a CSV under 1 MB with 100,000 columns) and hostile XML in an XLSX
(an external entity reading /etc/passwd; "billion laughs" nested entities).

Each file goes through ``manage.py import`` and through the admin's import page, in a child
process with a memory ceiling and a time limit, so that a reader without limits fails the test
instead of exhausting the machine. Each must end with a message a person can act on: the
command with its error (no traceback), the admin with the form shown again; nothing of
/etc/passwd anywhere; nothing imported.

These run against whatever reader ``dtiplan/spreadsheets/`` has. The clean message for an
XLSX with an external entity through ``manage.py import`` belongs to the file-reading code and
has not landed yet (the command prints expat's ParseError traceback; nothing is read from
/etc/passwd): that one case is ``xfail`` (not strict) until it does.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.db import connection

from plans.models import Unit, User

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parent.parent
MEMORY_LIMIT = 1024 * 1024 * 1024  # bytes of address space for the child
# A reader that kept the file's promised size in check stays far below the ceiling: a child
# that read a normal file peaks at about 150 MB. Reaching the ceiling and catching the
# MemoryError is not a refusal: without the ceiling the machine would have run out first.
PEAK_LIMIT_MB = 400
TIME_LIMIT = 120  # seconds
READER_FIX = pytest.mark.xfail(
    strict=False,
    reason="a clean message for hostile XML in manage.py import: dtiplan/spreadsheets/ (reading)",
)
HEADER = ["Tên đơn vị", "Tên viết tắt", "Loại", "Đầu mối"]

CHILD = r"""
import atexit, resource, sys
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
atexit.register(lambda: print("PEAK_MB", peak()))
import django
django.setup()
from django.core.management import CommandError, call_command
mode, path = sys.argv[1], sys.argv[2]
if mode == "command":
    try:
        call_command("import", "plans.resources.UnitResource", path, "--no-input")
    except CommandError as error:
        print("REFUSED:", error)
        sys.exit(3)
    print("IMPORTED")
else:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.test.utils import setup_test_environment
    from plans.models import User
    setup_test_environment()
    client = Client()
    client.force_login(User.objects.get(username="root"))
    url = "/admin/plans/unit/import/"
    form = client.get(url).context["form"]
    kind = path.rsplit(".", 1)[-1].lower()
    fmt = next(v for v, label in form.fields["format"].choices if str(label).lower() == kind)
    with open(path, "rb") as handle:
        upload = SimpleUploadedFile(path.rsplit("/", 1)[-1], handle.read())
    response = client.post(url, {"import_file": upload, "format": fmt, "resource": "0"})
    body = response.content.decode("utf-8", "replace")
    print("STATUS", response.status_code)
    print("FORM ERROR" if "errorlist" in body or "errornote" in body else "NO ERROR SHOWN")
    print(body[-3000:])
"""


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def peak_mb(result: subprocess.CompletedProcess[str]) -> int:
    found = re.search(r"^PEAK_MB (\d+)$", result.stdout, flags=re.MULTILINE)
    return int(found.group(1)) if found else 10**6


def run_child(mode: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "dtiplan.settings",
        "DATABASE_URL": database_url(),
        "SITE_URL": settings.SITE_URL,
    }
    try:
        return subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(path), str(MEMORY_LIMIT)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{mode} on {path.name}: still reading after {TIME_LIMIT} s")


def xlsx_bytes(rows: list[list[object]], far_cell: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    if far_cell:
        book.active[far_cell] = "x"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_doctype(content: bytes, doctype: str, entity: str) -> bytes:
    """The XLSX with ``doctype`` declared in its sheet and ``&entity;`` as the unit's name."""
    source = zipfile.ZipFile(io.BytesIO(content))
    sheet = "xl/worksheets/sheet1.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == sheet:
                text = data.decode("utf-8")
                name = "S&#7903; X&#226;y d&#7921;ng"  # how openpyxl writes "Sở Xây dựng"
                assert name in text, "openpyxl wrote the sheet differently; adapt the battery"
                text = text.replace(f"<t>{name}</t>", f"<t>&{entity};</t>", 1)
                if text.startswith("<?xml"):
                    head, rest = text.split("?>", 1)
                    text = f"{head}?>{doctype}{rest}"
                else:
                    text = doctype + text
                data = text.encode()
            target.writestr(item, data)
    return out.getvalue()


def expanding_xlsx() -> bytes:
    return xlsx_bytes([HEADER, ["Sở Xây dựng", "SXD", "department", ""]], "XFD1048576")


def wide_csv() -> bytes:
    header = ",".join(HEADER + [f"c{i}" for i in range(100_000 - len(HEADER))])
    row = ",".join(["Sở Xây dựng", "SXD", "department", ""] + [""] * (100_000 - len(HEADER)))
    return f"{header}\n{row}\n".encode()


def xxe_xlsx() -> bytes:
    doctype = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    plain = xlsx_bytes([HEADER, ["Sở Xây dựng", "SXD", "department", ""]])
    return with_doctype(plain, doctype, "xxe")


def billion_laughs_xlsx() -> bytes:
    entities = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{n} "{("&l" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
    ]
    doctype = f"<!DOCTYPE worksheet [{''.join(entities)}]>"
    plain = xlsx_bytes([HEADER, ["Sở Xây dựng", "SXD", "department", ""]])
    return with_doctype(plain, doctype, "l9")


FILES = {
    "far-cell.xlsx": expanding_xlsx,
    "wide.csv": wide_csv,
    "xxe.xlsx": xxe_xlsx,
    "billion-laughs.xlsx": billion_laughs_xlsx,
}


def test_the_hostile_files_are_what_they_claim():
    """Small on disk, as reported: the expansion happens only when they are read."""
    assert len(expanding_xlsx()) < 10_000
    assert len(wide_csv()) < 1_000_000
    sheet = zipfile.ZipFile(io.BytesIO(xxe_xlsx())).read("xl/worksheets/sheet1.xml")
    assert b"file:///etc/passwd" in sheet and b"&xxe;" in sheet


def test_a_normal_file_stays_far_below_the_memory_ceiling(tmp_path):
    """The yardstick for PEAK_LIMIT_MB: the same kind of file, without the trick."""
    User.objects.create_superuser("root", "root@tinh.example", "x")
    path = tmp_path / "units.xlsx"
    path.write_bytes(xlsx_bytes([HEADER, ["Sở Xây dựng", "SXD", "department", ""]]))
    for mode in ("admin", "command"):
        result = run_child(mode, path)
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        assert peak_mb(result) < PEAK_LIMIT_MB, f"{mode}: peak {peak_mb(result)} MB"


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=READER_FIX) if n == "xxe.xlsx" else n for n in FILES]
)
def test_manage_py_import_refuses_a_hostile_file_with_a_message(name, tmp_path):
    path = tmp_path / name
    path.write_bytes(FILES[name]())

    result = run_child("command", path)

    output = result.stdout + result.stderr
    assert "root:x:0:0" not in output
    assert "Traceback" not in output, output[-3000:]
    assert result.returncode == 3, output[-3000:]
    assert "REFUSED:" in result.stdout
    assert peak_mb(result) < PEAK_LIMIT_MB, f"peak {peak_mb(result)} MB"
    assert not Unit.objects.filter(name="Sở Xây dựng").exists()


@pytest.mark.parametrize("name", FILES)
def test_the_admin_import_refuses_a_hostile_file_with_a_message(name, tmp_path):
    User.objects.create_superuser("root", "root@tinh.example", "x")
    path = tmp_path / name
    path.write_bytes(FILES[name]())

    result = run_child("admin", path)

    output = result.stdout + result.stderr
    assert "root:x:0:0" not in output
    assert result.returncode == 0, output[-3000:]
    assert "STATUS 200" in result.stdout and "FORM ERROR" in result.stdout, output[-3000:]
    assert peak_mb(result) < PEAK_LIMIT_MB, f"peak {peak_mb(result)} MB"
    assert not Unit.objects.filter(name="Sở Xây dựng").exists()
