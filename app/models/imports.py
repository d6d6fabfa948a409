"""Member imports from another loyalty app: the run, its staged file, and each row applied."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, utcnow

IMPORT_STATES = ("staged", "importing", "failed", "done", "discarded")


class ImportRun(Base):
    """One uploaded file: previewed when staged, applied chunk by chunk once confirmed.

    `next_chunk` is the resume point: every chunk before it is committed with its members,
    ledger entries and imported rows, so a run that failed or whose worker died goes on from
    there. While it is applied, each chunk's transaction also writes `heartbeat_at`, and
    `claimed_by` names the job applying it: a run that stops beating is taken over once by
    a new job (app/loyalty/importing/runs.py), and never by two at a time.
    """

    __tablename__ = "import_runs"
    __table_args__ = (Index("ix_import_runs_shop_created", "shop_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="staged")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    next_chunk: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    # The preview as JSON (created, matched, already imported, refused with line numbers,
    # points per tier), written when the file is staged.
    preview: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))


class ImportChunk(Base):
    """A slice of the uploaded file, already parsed: JSON rows and refusals with line numbers.

    The file is staged in slices so neither the preview nor the import ever holds it whole.
    """

    __tablename__ = "import_chunks"
    __table_args__ = (UniqueConstraint("run_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    rows: Mapped[str] = mapped_column(Text)


class ImportedRow(Base):
    """A source's customer applied once: its key (`smile:ada@example.com`) is unique per shop,
    so importing the same file again, or resuming a run, changes nothing."""

    __tablename__ = "imported_rows"
    __table_args__ = (
        UniqueConstraint("shop_id", "source_key"),
        Index("ix_imported_rows_run", "run_id", "line"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"))
    source_key: Mapped[str] = mapped_column(String(191))
    line: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"),
                                           index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
