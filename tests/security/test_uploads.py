"""Uploads: office documents checked inside (unpacked size, members), PDFs that act when opened
refused (workorders.lifecycle.attachments.check_upload)."""

import io
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.errors import DomainError
from workorders.lifecycle.attachments import check_upload

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx(extra: dict[str, bytes] | None = None, name="报告.docx") -> SimpleUploadedFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/media/image1.png", b"\x89PNG\r\n\x1a\n")
        for member, data in (extra or {}).items():
            z.writestr(member, data)
    return SimpleUploadedFile(name, buf.getvalue(), content_type=DOCX_TYPE)


def _pdf(body: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("现场.pdf", b"%PDF-1.7\n" + body + b"\n%%EOF\n", content_type="application/pdf")


def test_an_ordinary_docx_and_pdf_pass():
    assert check_upload(_docx()) == DOCX_TYPE
    assert check_upload(_pdf(b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj")) == "application/pdf"
    font = _pdf(b"1 0 obj << /BaseFont /AAAAAA+ArialMT /JSON 1 >> endobj")  # names that merely start alike
    assert check_upload(font) == "application/pdf"


def test_a_docx_bomb_is_refused_by_its_unpacked_size(settings):
    bomb = _docx({"word/media/zeros.bin": b"\0" * (101 * 1024 * 1024)})
    assert bomb.size < 1024 * 1024  # half a megabyte on the wire
    with pytest.raises(DomainError) as exc:
        check_upload(bomb)
    assert exc.value.code == "file_unpacked_size"


@pytest.mark.parametrize(
    "member",
    ["index.html", "word/evil.js", "word/vbaProject.bin", "tools/run.exe", "../../etc/passwd", "docProps/x.svg"],
)
def test_members_that_do_not_belong_in_a_document_are_refused(member):
    with pytest.raises(DomainError) as exc:
        check_upload(_docx({member: b"<script>alert(1)</script>"}))
    assert exc.value.code == "file_member_kind"


@pytest.mark.parametrize(
    "body",
    [
        b"1 0 obj << /Type /Catalog /OpenAction 2 0 R >> endobj 2 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj",
        b"1 0 obj << /Type /Annot /AA << /O 3 0 R >> >> endobj",
        b"1 0 obj << /S /Launch /F (cmd.exe) >> endobj",
        b"1 0 obj << /S /J#61vaScript /J#53 (x) >> endobj",  # hex-escaped names
    ],
)
def test_pdfs_that_act_when_opened_are_refused(body):
    with pytest.raises(DomainError) as exc:
        check_upload(_pdf(body))
    assert exc.value.code == "file_active_pdf"


def test_an_action_hidden_in_a_compressed_object_stream_is_found():
    hidden = zlib.compress(b"<< /Type /Catalog /OpenAction << /S /JavaScript /JS (x) >> >>")
    body = b"5 0 obj << /Type /ObjStm /Filter /FlateDecode >> stream\n" + hidden + b"\nendstream endobj"
    with pytest.raises(DomainError):
        check_upload(_pdf(body))
