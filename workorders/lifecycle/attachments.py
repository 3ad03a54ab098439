"""Checking uploaded files: the extension must be allowed AND the content must really be that kind
of file (sniffed from its first bytes), and the size is limited. Nothing else is stored."""

from __future__ import annotations

import zipfile

from django.conf import settings
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


def max_bytes() -> int:
    return getattr(settings, "ORDER_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)


def _sniff(head: bytes, upload) -> str | None:
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


def check_upload(upload) -> str:
    """Return the content type of an acceptable upload, or raise DomainError (nothing stored)."""
    name = upload.name or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED:
        raise DomainError(
            _("文件“%(name)s”的类型不允许上传，仅支持 jpg、png、gif、webp、pdf、docx、xlsx。") % {"name": name},
            code="file_type",
        )
    limit = max_bytes()
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
    return ALLOWED[ext]


def check_uploads(uploads) -> list[tuple[object, str]]:
    uploads = list(uploads or [])
    if len(uploads) > MAX_FILES:
        raise DomainError(_("一次最多上传 %(n)s 个文件。") % {"n": MAX_FILES}, code="file_count")
    return [(u, check_upload(u)) for u in uploads]


def file_response(file, *, name: str, content_type: str, inline_allowed: bool = True):
    """Serve a stored attachment or evidence file: images and PDFs inline (when allowed), anything
    else as a download; never cached by shared caches, and under a CSP that lets no script run in our
    origin (a crafted SVG or HTML file stays inert)."""

    inline = inline_allowed and (content_type.startswith("image/") or content_type == "application/pdf")
    response = FileResponse(file.open("rb"), content_type=content_type, as_attachment=not inline, filename=name)
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response
