"""Files within the 50 MB limit that are still too much: too many columns, rows or lines.

Measured before the limits: a 439 KB file of 50,000 columns uploaded in 0.7 s, and then each view
of its job page took 100 s and sent 166 MB of HTML (a mapping row per column); a 10 MB file of
5,000,000 one-letter rows took 26 s and 1.8 GB of memory to read, in the upload request itself,
and again on every view of the job page. Each is now refused at upload with a sentence.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qualify.imports.models import ImportJob
from qualify.imports.parsing import MAX_COLUMNS, MAX_LINES, MAX_ROWS, NotACsv, read_csv
from tests.conftest import login


def wide(columns: int) -> bytes:
    return (",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("x" for _ in range(columns)) + "\n").encode()


def long(rows: int) -> bytes:
    return b"email\n" + b"a@b.example\n" * rows


def test_a_file_of_as_many_columns_and_rows_as_allowed_is_read():
    assert len(read_csv(wide(MAX_COLUMNS)).header) == MAX_COLUMNS
    assert len(read_csv(long(MAX_ROWS)).rows) == MAX_ROWS


def test_too_many_columns_is_refused():
    with pytest.raises(NotACsv, match=f"The file has {MAX_COLUMNS + 1:,} columns; at most {MAX_COLUMNS:,} are read"):
        read_csv(wide(MAX_COLUMNS + 1))


def test_too_many_rows_is_refused():
    with pytest.raises(NotACsv, match=f"The file has more than {MAX_ROWS:,} rows; split it"):
        read_csv(long(MAX_ROWS + 1))


def test_too_many_lines_is_refused_before_they_are_split():
    """Blank lines are no rows, but each would be a string in memory before that is known."""
    with pytest.raises(NotACsv, match=f"The file has more than {MAX_LINES:,} lines; split it"):
        read_csv(b"email\n" + b"\r\n" * MAX_LINES + b"a@b.example\n")


def test_a_quoted_value_over_many_lines_counts_as_one_row():
    note = "\n".join("line" for _ in range(50))
    f = read_csv(f'email,note\na@b.example,"{note}"\n'.encode())
    assert len(f.rows) == 1 and f.rows[0].cells[1] == note


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_too_wide_file_is_refused_at_upload_and_no_job_is_stored(client, north, maria, via):
    login(client, maria)
    upload = SimpleUploadedFile("wide.csv", wide(MAX_COLUMNS + 1))
    if via == "page":
        r = client.post("/imports/", {"kind": "leads", "team": north.pk, "file": upload})
        assert r.status_code == 200 and "at most 1,000 are read" in r.content.decode()
    else:
        r = client.post("/api/imports/", {"kind": "leads", "team": north.pk, "file": upload})
        assert r.status_code == 400 and "at most 1,000 are read" in r.json()["file"][0]
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("via", ["page", "api"])
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(client, north, maria, monkeypatch, via):
    """Django spools a large upload to disk; reading it all to measure it held gigabytes in memory."""
    from django.core.files.uploadedfile import InMemoryUploadedFile

    from qualify.imports import jobs

    monkeypatch.setattr(jobs, "MAX_BYTES", 1024 * 1024)
    reads = []
    monkeypatch.setattr(InMemoryUploadedFile, "read", lambda self, *a: reads.append(a) or self.file.read(*a), raising=False)
    login(client, maria)
    upload = io.BytesIO(long(100_000))  # 1.2 MB; not an UploadedFile, so the client's own read is not counted
    upload.name = "big.csv"
    if via == "page":
        r = client.post("/imports/", {"kind": "leads", "team": north.pk, "file": upload})
        assert r.status_code == 200 and "The file is larger than 1 MB; split it." in r.content.decode()
    else:
        r = client.post("/api/imports/", {"kind": "leads", "team": north.pk, "file": upload})
        assert r.status_code == 400 and r.json()["file"] == ["The file is larger than 1 MB; split it."]
    assert reads == [] and not ImportJob.objects.exists()
