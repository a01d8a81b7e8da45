"""Evidence files: what may be uploaded, where it is kept, and under which name.

A file is accepted only when its extension is on the list AND its first bytes are what that
extension promises (a renamed .exe or .html is refused whatever it is called). Files live under
``settings.EVIDENCE_ROOT``, outside anything a web server publishes, under random names; the only
way to read one is ``plans.views.evidence_download``, which checks the task's visibility first.
"""

from __future__ import annotations

import os
import secrets
import time
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def _is_pdf(head: bytes, _file: IO[bytes]) -> bool:
    # The PDF spec lets "%PDF-" appear within the first 1024 bytes.
    return b"%PDF-" in head[:1024]


def _is_ole2(head: bytes, _file: IO[bytes]) -> bool:
    """Legacy Word/Excel/PowerPoint (.doc, .xls, .ppt) are OLE2 compound files."""
    return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _zip_with(prefixes: tuple[str, ...]) -> Callable[[bytes, IO[bytes]], bool]:
    """Office Open XML and OpenDocument files are ZIP archives; a ZIP is accepted only when it
    holds the part that makes it a document of that kind (word/, xl/, ppt/, or ODF's mimetype)."""

    def check(head: bytes, file: IO[bytes]) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
        return any(name.startswith(prefix) for name in names for prefix in prefixes)

    return check


def _is_jpeg(head: bytes, _file: IO[bytes]) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _is_png(head: bytes, _file: IO[bytes]) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _is_gif(head: bytes, _file: IO[bytes]) -> bool:
    return head[:6] in (b"GIF87a", b"GIF89a")


def _is_webp(head: bytes, _file: IO[bytes]) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


# extension -> (content type we serve it with, check of its first bytes)
ALLOWED_TYPES: dict[str, tuple[str, Callable[[bytes, IO[bytes]], bool]]] = {
    ".pdf": ("application/pdf", _is_pdf),
    ".doc": ("application/msword", _is_ole2),
    ".xls": ("application/vnd.ms-excel", _is_ole2),
    ".ppt": ("application/vnd.ms-powerpoint", _is_ole2),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _zip_with(("word/",)),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _zip_with(("xl/",)),
    ),
    ".pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _zip_with(("ppt/",)),
    ),
    ".odt": ("application/vnd.oasis.opendocument.text", _zip_with(("mimetype",))),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", _zip_with(("mimetype",))),
    ".odp": ("application/vnd.oasis.opendocument.presentation", _zip_with(("mimetype",))),
    ".jpg": ("image/jpeg", _is_jpeg),
    ".jpeg": ("image/jpeg", _is_jpeg),
    ".png": ("image/png", _is_png),
    ".gif": ("image/gif", _is_gif),
    ".webp": ("image/webp", _is_webp),
}


def extension(name: str) -> str:
    return PurePath(name).suffix.lower()


def content_type_for(name: str) -> str:
    return ALLOWED_TYPES.get(extension(name), ("application/octet-stream", None))[0]


def validate_evidence_file(file: File) -> None:
    """Size first (cheap, before reading anything), then extension, then the bytes."""
    size = getattr(file, "size", None)
    limit = settings.EVIDENCE_MAX_UPLOAD_BYTES
    if size is not None and size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    name = getattr(file, "name", "") or ""
    ext = extension(name)
    if ext not in ALLOWED_TYPES:
        raise ValidationError(
            _(
                "Files of this type are not accepted. Accepted: PDF, Word, Excel, PowerPoint, "
                "OpenDocument and images (JPEG, PNG, GIF, WebP)."
            ),
            code="type",
        )
    _content_type, looks_right = ALLOWED_TYPES[ext]
    file.seek(0)
    head = file.read(2048)
    ok = looks_right(head, file)
    file.seek(0)
    if not ok:
        raise ValidationError(
            _("The content of %(name)s is not a %(ext)s file.")
            % {"name": PurePath(name).name, "ext": ext.lstrip(".").upper()},
            code="content",
        )


class EvidenceStorage(FileSystemStorage):
    """A file system storage rooted at ``EVIDENCE_ROOT`` with no URL: nothing is served directly.

    The root is read from settings on each use (not cached), so tests and deployments that
    change the setting are obeyed.
    """

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @property
    def base_location(self) -> str:  # type: ignore[override]
        return str(settings.EVIDENCE_ROOT)

    @property
    def location(self) -> str:  # type: ignore[override]
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Evidence is served only through the access-checked view.")


_storage = EvidenceStorage()


def evidence_storage() -> EvidenceStorage:
    # A callable, so migrations record this function rather than a machine's path.
    return _storage


def evidence_upload_to(_instance: object, filename: str) -> str:
    """``2026/05/3f9c…e1.pdf``: 128 random bits; only the (checked) extension is kept, the
    person's file name is stored in the database and given back on download."""
    today = timezone.localdate()
    return f"{today:%Y/%m}/{secrets.token_hex(16)}{extension(filename)}"


def evidence_orphans(*, delete: bool = False) -> list[str]:
    """Files under ``EVIDENCE_ROOT`` that no evidence row (of a task or a self-assessment item)
    names (left by a crash between the file's write and the row's commit, or by rows deleted
    before files followed their rows), oldest first; with ``delete``, removed. A file younger
    than an hour is left alone: its row may still be on its way in an open transaction."""
    # plans.models imports this module for its storage.
    from plans.models import Evidence, SelfAssessmentEvidence

    root = Path(settings.EVIDENCE_ROOT)
    if not root.is_dir():
        return []
    known = set(Evidence.objects.exclude(file="").values_list("file", flat=True))
    known |= set(SelfAssessmentEvidence.objects.exclude(file="").values_list("file", flat=True))
    cutoff = time.time() - 3600
    found = sorted(
        (path.stat().st_mtime, path.relative_to(root).as_posix())
        for path in root.rglob("*")
        if path.is_file() and path.stat().st_mtime < cutoff
    )
    orphans = [name for _mtime, name in found if name not in known]
    if delete:
        for name in orphans:
            _storage.delete(name)
    return orphans


class EvidenceRecord(models.Model):
    """A file or a link that backs what a unit reports (task evidence, self-assessment
    evidence): who added it and when, and either a file stored as above or a web link. Each
    kind adds what it backs and its own constraint that exactly one of the two is set."""

    uploaded_by = models.ForeignKey(
        "plans.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("added by"),
    )
    uploaded_at = models.DateTimeField(gettext_lazy("added at"), default=timezone.now)
    file = models.FileField(
        gettext_lazy("file"),
        storage=evidence_storage,
        upload_to=evidence_upload_to,
        max_length=200,
        blank=True,
    )
    original_name = models.CharField(gettext_lazy("file name"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(gettext_lazy("size in bytes"), null=True, blank=True)
    link = models.URLField(gettext_lazy("link"), max_length=1000, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name or self.link

    def attach_file(self, file: File) -> None:
        """Check ``file`` (extension and content) and hold it on this row, with the person's
        file name and its size; the row is saved by the caller."""
        validate_evidence_file(file)
        self.file = file
        self.original_name = PurePath(file.name or "").name[:255]
        self.size = file.size

    def download(self) -> FileResponse:
        """The stored file as an attachment under the person's file name, never cached. Call
        only after the access check; a file missing on disk answers 404."""
        try:
            handle = self.file.open("rb")
        except FileNotFoundError as missing:
            raise Http404 from missing
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=self.original_name or self.file.name.rsplit("/", 1)[-1],
            content_type=content_type_for(self.file.name),
        )
        response["Cache-Control"] = "private, no-store"
        return response
