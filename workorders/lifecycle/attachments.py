"""Checking uploaded files: the extension must be allowed AND the content must really be that kind
of file (sniffed from its first bytes), and the size is limited. Nothing else is stored.

Beyond the kind: an office document (a zip inside) is unpacked as far as counting goes — its
members' real uncompressed size in total (a 0.5 MB "zip bomb" of 512 MB zeros is refused), their
number, and their names: web pages, scripts, executables and macro projects have no place in a
report or a photo log, nor do paths that climb out of the archive. A PDF that would act when
opened — /JavaScript, /JS, /OpenAction, /AA (additional actions), /Launch, also when the name is
hex-escaped or sits in a compressed object stream — is refused."""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from hotline.errors import DomainError

# extension → (content type, how to recognise the content)
ALLOWED = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_FILES = 10
# office documents: at most this much unpacked in total, and this many members
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_MEMBERS = 2000
FORBIDDEN_MEMBER_RE = re.compile(
    r"(\.(html?|xhtml|mht|svg|js|mjs|vbs|vbe|wsf|hta|ps1|psm1|bat|cmd|com|exe|dll|scr|msi|jar|sh|py|php|asp|aspx|jsp|lnk)$"
    r"|vbaproject\.bin$|vbadata\.xml$|activex\d*\.bin$|(^|/)\.\.(/|$)|^/|\\)",
    re.IGNORECASE,
)
PDF_ACTIVE_NAMES = {b"JavaScript", b"JS", b"OpenAction", b"AA", b"Launch"}
_PDF_NAME_RE = re.compile(rb"/((?:[A-Za-z0-9_.+-]|#[0-9A-Fa-f]{2})+)")
_PDF_STREAM_RE = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)


def max_bytes() -> int:
    return settings.ORDER_ATTACHMENT_MAX_BYTES


def _sniff(head: bytes, upload: UploadedFile) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            upload.seek(0)
            names = set(zipfile.ZipFile(upload).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            upload.seek(0)
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "docx"
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return "xlsx"
    return None


def _office_problem(upload: UploadedFile) -> str | None:
    """Why an office document (zip) is refused, or None. Reads every member through, counting."""
    upload.seek(0)
    try:
        archive = zipfile.ZipFile(upload)
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            return "members"
        total = 0
        for info in members:
            if FORBIDDEN_MEMBER_RE.search(info.filename):
                return "member_kind"
            with archive.open(info) as member:
                while chunk := member.read(1024 * 1024):
                    total += len(chunk)
                    if total > MAX_UNPACKED_BYTES:
                        return "unpacked_size"
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        ValueError,
        NotImplementedError,
        RuntimeError,
        EOFError,
        zlib.error,
    ):
        return "broken"
    finally:
        upload.seek(0)
    return None


def _pdf_names(data: bytes) -> set[bytes]:
    names = set()
    for match in _PDF_NAME_RE.finditer(data):
        raw = match.group(1)
        if b"#" in raw:
            raw = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
        names.add(raw)
    return names


def _pdf_is_active(upload: UploadedFile) -> bool:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if _pdf_names(data) & PDF_ACTIVE_NAMES:
        return True
    budget = MAX_UNPACKED_BYTES
    for match in _PDF_STREAM_RE.finditer(data):
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(match.group(1), budget)
        except zlib.error:
            continue  # not a Flate stream (an image, say)
        budget -= len(inflated)
        if _pdf_names(inflated) & PDF_ACTIVE_NAMES:
            return True
        if budget <= 0:
            return True  # more packed content than any report needs: refuse rather than not look
    return False


OFFICE_MESSAGES = {
    "members": lambda name: _("文件“%(name)s”包含的部件过多，未上传。") % {"name": name},
    "member_kind": lambda name: _("文件“%(name)s”内含网页、脚本、可执行程序或宏，未上传。") % {"name": name},
    "unpacked_size": lambda name: (
        _("文件“%(name)s”解压后超过 %(mb)s MB，未上传。") % {"name": name, "mb": MAX_UNPACKED_BYTES // (1024 * 1024)}
    ),
    "broken": lambda name: _("文件“%(name)s”已损坏，无法读取，未上传。") % {"name": name},
}


def check_upload(upload: UploadedFile) -> str:
    """Return the content type of an acceptable upload, or raise DomainError (nothing stored)."""
    name = upload.name or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED:
        raise DomainError(
            _("文件“%(name)s”的类型不允许上传，仅支持 jpg、png、gif、webp、pdf、docx、xlsx。") % {"name": name},
            code="file_type",
        )
    limit = max_bytes()
    if upload.size is None:  # Django's upload handlers always set it; a file without one cannot be measured
        raise ValueError(f"upload {name!r} has no size")
    if upload.size > limit:
        raise DomainError(
            _("文件“%(name)s”超过大小上限 %(mb)s MB。") % {"name": name, "mb": limit // (1024 * 1024)},
            code="file_size",
        )
    if upload.size == 0:
        raise DomainError(_("文件“%(name)s”是空文件。") % {"name": name}, code="file_empty")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = _sniff(head, upload)
    same = {"jpg": "jpg", "jpeg": "jpg"}.get(ext, ext)
    if kind != same:
        raise DomainError(
            _("文件“%(name)s”的内容与扩展名不符，未上传。") % {"name": name},
            code="file_content",
        )
    if kind in ("docx", "xlsx") and (problem := _office_problem(upload)):
        raise DomainError(OFFICE_MESSAGES[problem](name), code=f"file_{problem}")
    if kind == "pdf" and _pdf_is_active(upload):
        raise DomainError(
            _("文件“%(name)s”含有脚本或自动执行的动作（JavaScript、OpenAction 等），未上传。") % {"name": name},
            code="file_active_pdf",
        )
    return ALLOWED[ext]


def check_uploads(uploads: Iterable[UploadedFile] | None) -> list[tuple[UploadedFile, str]]:
    uploads = list(uploads or [])
    if len(uploads) > MAX_FILES:
        raise DomainError(_("一次最多上传 %(n)s 个文件。") % {"n": MAX_FILES}, code="file_count")
    return [(u, check_upload(u)) for u in uploads]


def file_response(file: FieldFile, *, name: str, content_type: str, inline_allowed: bool = True) -> FileResponse:
    """Serve a stored attachment or evidence file: images and PDFs inline (when allowed), anything
    else as a download; never cached by shared caches, and under a CSP that lets no script run in our
    origin (a crafted SVG or HTML file stays inert)."""

    inline = inline_allowed and (content_type.startswith("image/") or content_type == "application/pdf")
    response = FileResponse(file.open("rb"), content_type=content_type, as_attachment=not inline, filename=name)
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response
