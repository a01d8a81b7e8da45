"""The development e-mail backend: each message in a file of its own under var/mail/.

Django's file backend appends every message of a connection to one file; the sweep sends a
batch of recipients per connection, so a newcomer would find several e-mails in one file.
"""

from __future__ import annotations

import email.message
import uuid
from collections.abc import Sequence
from email.header import Header
from pathlib import Path
from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.utils import timezone


class FilePerMessageBackend(FileBackend):
    # The parent opens one file per connection; each message gets its own file instead, so
    # opening a connection must not leave an empty file behind.
    def open(self) -> bool:
        return False

    def close(self) -> None:
        return None

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            path = Path(self.file_path) / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            path.write_bytes(message.message().as_bytes())
            sent += 1
        return sent


class CleanSubjectEmail(EmailMultiAlternatives):
    """An e-mail whose non-ASCII subject is folded knowing its header's name.

    Django encodes such a subject before the header's name is known, so the first encoded
    word no longer fits beside "Subject: " and the line is broken right after it; many mail
    readers then show the subject with a leading space. Here the subject is folded as a
    ``Header`` that counts its name in."""

    def message(self) -> Any:
        msg = super().message()
        del msg["Subject"]
        # Message.__setitem__ directly: Django's own would encode it again, the old way.
        email.message.Message.__setitem__(
            msg, "Subject", Header(str(self.subject), "utf-8", header_name="Subject")
        )
        return msg
