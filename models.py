"""The whole Ceping schema on one page (SQLAlchemy 2.0, typed).

Secrecy shapes this file: ``Ballot`` and ``Answer`` hold no reference to a
``BallotCode``, no network data and only the day of submission; their keys are
random, and on SQLite they are ``WITHOUT ROWID`` tables so that not even the
hidden rowid records the order in which ballots arrived.
"""
from __future__ import annotations

import datetime as dt
import enum
import secrets
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    LargeBinary,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy import select, update
from sqlalchemy import text as sql_text  # models have columns named ``text``
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from extensions import db


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store enums by value in a VARCHAR with a CHECK, portable across SQLite and PostgreSQL."""
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=16,
                values_callable=lambda e: [m.value for m in e])


def utcnow() -> dt.datetime:
    """Timezone-aware now, for organiser-side timestamps (never used on ballots)."""
    return dt.datetime.now(dt.timezone.utc)


def random_id() -> str:
    """A random 128-bit key: ballot ids must not reveal arrival order."""
    return secrets.token_hex(16)


class UnitKind(enum.Enum):
    COMMITTEE = "committee"  # 党(工)委
    UNIT = "unit"            # 单位
    BRANCH = "branch"        # 基层党组织 / 支部


class Polarity(enum.Enum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    UNKNOWN = "unknown"


class ItemKind(enum.Enum):
    SCALE = "scale"        # a rated indicator; counts towards scores
    SINGLE = "single"      # single choice (quiz or profile question)
    MULTIPLE = "multiple"  # multiple choice
    TEXT = "text"          # free text
    FILL = "fill"          # fill-in answer of a learning test, checked against accepted answers


class EvaluationStatus(enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class CodeStatus(enum.Enum):
    UNUSED = "unused"
    USED = "used"
    VOID = "void"


class Role(enum.Enum):
    ORGANISER = "organiser"
    LIAISON = "liaison"
    VIEWER = "viewer"


class Campaign(db.Model):
    """学习实践活动: one campaign with its units and rater groups."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    starts_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    ends_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Moves with every change the campaign's figures may show (bump_data_version); the overview's cache key.
    data_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    units: Mapped[list[Unit]] = relationship(back_populates="campaign", order_by="Unit.id")
    rater_groups: Mapped[list[RaterGroup]] = relationship(back_populates="campaign", order_by="RaterGroup.id")
    evaluations: Mapped[list[Evaluation]] = relationship(back_populates="campaign", order_by="Evaluation.id")


def bump_data_version(session, evaluation_ids=None) -> None:
    """Move the data version of the campaigns of these evaluations (every campaign if None).

    Run in the transaction that makes the change, so the two commit or roll back
    together: whoever reads the new version reads the new data. Called by the
    ballot box when it counts (surveys/box.py), by a tally rebuild, and for every
    organiser decision by the audit log (evaluation/accounts/audit.py).
    """
    statement = update(Campaign).values(data_version=Campaign.data_version + 1)
    if evaluation_ids is not None:
        statement = statement.where(Campaign.id.in_(
            select(Evaluation.campaign_id).where(Evaluation.id.in_([int(e) for e in evaluation_ids]))))
    session.execute(statement.execution_options(synchronize_session=False))


class Unit(db.Model):
    """A node of the organisation tree: committee → unit → branch."""

    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind, "unit_kind"))
    members: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    campaign: Mapped[Campaign] = relationship(back_populates="units")
    parent: Mapped[Optional[Unit]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.id")

    def committee(self) -> Optional[Unit]:
        """The committee this unit belongs to (itself if it is one)."""
        node: Optional[Unit] = self
        while node is not None and node.kind is not UnitKind.COMMITTEE:
            node = node.parent
        return node


class RaterGroup(db.Model):
    """测评主体: who rates (党员, 群众代表 …), with an optional weight."""

    __table_args__ = (UniqueConstraint("campaign_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    weight: Mapped[Optional[float]] = mapped_column(Float)

    campaign: Mapped[Campaign] = relationship(back_populates="rater_groups")


class Scale(db.Model):
    """评价等次: an ordered set of options shared by one or more items."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    options: Mapped[list[Option]] = relationship(
        back_populates="scale", order_by="Option.position", cascade="all, delete-orphan"
    )


class Option(db.Model):
    """One choice of a scale; its polarity decides how it counts in a rate."""

    __table_args__ = (UniqueConstraint("scale_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scale_id: Mapped[int] = mapped_column(ForeignKey("scale.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[Optional[float]] = mapped_column(Float)
    polarity: Mapped[Polarity] = mapped_column(_enum(Polarity, "polarity"))
    correct: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # quiz key

    scale: Mapped[Scale] = relationship(back_populates="options")


class Questionnaire(db.Model):
    """测评表: a versioned list of items, frozen once an evaluation using it opens."""

    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    # "survey" (rated indicators) or "quiz" (学习成果测试, scored against answers).
    kind: Mapped[str] = mapped_column(String(16), default="survey", server_default="survey")
    pass_mark: Mapped[float] = mapped_column(Float, default=80.0, server_default="80")

    items: Mapped[list[Item]] = relationship(
        back_populates="questionnaire", order_by="Item.position", cascade="all, delete-orphan"
    )


class Item(db.Model):
    """测评指标 / 题目: one indicator, choice question or free-text box."""

    __table_args__ = (UniqueConstraint("questionnaire_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind, "item_kind"))
    text: Mapped[str] = mapped_column(String(500))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    scale_id: Mapped[Optional[int]] = mapped_column(ForeignKey("scale.id"))
    # Quiz items: points for a right answer, and for fill-in items the accepted
    # answers as a JSON list of strings (compared after trimming and case folding).
    points: Mapped[Optional[float]] = mapped_column(Float)
    accepted: Mapped[Optional[str]] = mapped_column(Text)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="items")
    scale: Mapped[Optional[Scale]] = relationship()


evaluation_group = Table(
    "evaluation_group",
    db.metadata,
    Column("evaluation_id", ForeignKey("evaluation.id"), primary_key=True),
    Column("rater_group_id", ForeignKey("rater_group.id"), primary_key=True),
)


class Evaluation(db.Model):
    """一次测评: one questionnaire put to one unit for some rater groups."""

    __table_args__ = (
        # One first-round evaluation per unit and questionnaire, even when two organisers create the
        # same evaluations at once (the bulk create checks first, but a check cannot stop a race).
        # Later rounds (make-up, a revised report) carry previous_id and stay allowed; their own
        # decisions (MakeUp.evaluation_id, AnalysisReport unit+round) are unique already.
        Index("uq_evaluation_first_round", "unit_id", "questionnaire_id", unique=True,
              sqlite_where=sql_text("previous_id IS NULL"),
              postgresql_where=sql_text("previous_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"), index=True)
    opens_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True))
    status: Mapped[EvaluationStatus] = mapped_column(
        _enum(EvaluationStatus, "evaluation_status"), default=EvaluationStatus.DRAFT
    )
    threshold: Mapped[float] = mapped_column(Float, default=0.60)
    min_ballots: Mapped[int] = mapped_column(Integer, default=8)
    # Paper ballots keyed in twice by different operators must agree before they count.
    paper_double_entry: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A make-up (补课) round points at the evaluation it repeats.
    previous_id: Mapped[Optional[int]] = mapped_column(ForeignKey("evaluation.id"))

    campaign: Mapped[Campaign] = relationship(back_populates="evaluations")
    unit: Mapped[Unit] = relationship()
    questionnaire: Mapped[Questionnaire] = relationship()
    rater_groups: Mapped[list[RaterGroup]] = relationship(secondary=evaluation_group, order_by="RaterGroup.id")

    def is_accepting(self, now: Optional[dt.datetime] = None) -> bool:
        """True when raters may submit now: open, and inside the window if one is set."""
        if self.status is not EvaluationStatus.OPEN:
            return False
        now = now or utcnow()
        opens, closes = _aware(self.opens_at), _aware(self.closes_at)
        return (opens is None or opens <= now) and (closes is None or now < closes)


def _aware(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """SQLite returns naive datetimes; we store UTC, so mark them as such."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


class CodeBatch(db.Model):
    """A batch of ballot codes issued together, so it can be counted or voided as one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), index=True)
    rater_group_id: Mapped[int] = mapped_column(ForeignKey("rater_group.id"))
    count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    voided_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True))

    evaluation: Mapped[Evaluation] = relationship()
    rater_group: Mapped[RaterGroup] = relationship()


class BallotCode(db.Model):
    """测评码: stored only as a keyed hash; it records no time of use."""

    # (evaluation, status): turnout counts used codes in this index alone instead of reading each
    # code's row for its status (2.1 s → 0.13 s at 1M on SQLite); it serves lookups by evaluation too.
    __table_args__ = (Index("ix_ballot_code_evaluation_status", "evaluation_id", "status"),
                      {"sqlite_with_rowid": False})

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"))
    rater_group_id: Mapped[int] = mapped_column(ForeignKey("rater_group.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("code_batch.id"), index=True)
    status: Mapped[CodeStatus] = mapped_column(_enum(CodeStatus, "code_status"), default=CodeStatus.UNUSED)

    evaluation: Mapped[Evaluation] = relationship()
    rater_group: Mapped[RaterGroup] = relationship()


class Ballot(db.Model):
    """测评票: one submitted questionnaire. Deliberately no code, IP, agent or time of day."""

    # (evaluation, day): the ballots-per-day chart reads this index alone, not 1M rows fetched by their
    # random ids (2.0 s → 0.24 s at 1M on SQLite); it serves lookups by evaluation as the old index did.
    __table_args__ = (Index("ix_ballot_evaluation_day", "evaluation_id", "submitted_on"),
                      {"sqlite_with_rowid": False})

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"))
    rater_group_id: Mapped[int] = mapped_column(ForeignKey("rater_group.id"))
    submitted_on: Mapped[dt.date] = mapped_column(Date)

    answers: Mapped[list[Answer]] = relationship(back_populates="ballot", cascade="all, delete-orphan")


class SealedBallot(db.Model):
    """投票箱: a ballot sealed at submission, waiting to be counted (开箱).

    Redeeming a code writes only this row and the code's status, so the
    transaction stamps (PostgreSQL's ``xmin``, SQLite's WAL frames) that tie a
    code to what was written with it tie it to ciphertext: ``sealed`` is the
    answers and the day, AES-GCM encrypted under ``CEPING_BALLOT_KEY``, which
    the database never holds, and padded to one length per questionnaire so its
    size says nothing about a comment. Counting (surveys/box.py) moves sealed
    ballots into ``ballot``/``answer`` in shuffled batches and deletes these rows.
    The key is random; ``damaged`` marks a row whose ciphertext failed
    authentication, which is never counted.
    """

    __tablename__ = "ballot_box"
    # Each ballot asks how many sealed ballots its box holds (surveys/box.py, waiting): this index
    # answers alone, where the index on evaluation_id read every row of the evaluation for its group
    # and its damaged flag, which SQLite keeps after the ~13 KB ciphertext, in overflow pages.
    __table_args__ = (Index("ix_ballot_box_waiting", "evaluation_id", "rater_group_id", "damaged"),
                      {"sqlite_with_rowid": False})

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"))
    rater_group_id: Mapped[int] = mapped_column(ForeignKey("rater_group.id"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    damaged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Answer(db.Model):
    """One answer of a ballot: an option (``seq`` numbers several choices) or a text."""

    __table_args__ = {"sqlite_with_rowid": False}

    ballot_id: Mapped[str] = mapped_column(ForeignKey("ballot.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True, index=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, default=0, autoincrement=False)
    option_id: Mapped[Optional[int]] = mapped_column(ForeignKey("option.id"))
    text: Mapped[Optional[str]] = mapped_column(Text)

    ballot: Mapped[Ballot] = relationship(back_populates="answers")


class Tally(db.Model):
    """Running count of answers per evaluation × rater group × item × option.

    Updated by each count of the ballot box (surveys/box.py), in the transaction that
    inserts the batch's ballots, so reading results never scans ballots;
    ``flask --app app recount`` proves it equals a full recount.
    """

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), primary_key=True)
    rater_group_id: Mapped[int] = mapped_column(ForeignKey("rater_group.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("option.id"), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class PolarityTally(db.Model):
    """Running count of a scale item's answers per evaluation × rater group, by the option's polarity.

    What scoring reads (analysis/scoring.py: positive, negative and unknown answers of
    each rated item), kept with :class:`Tally` by the same counts: a fifth of its rows
    and no join with ``option``, so a campaign's results read a few thousand rows as
    they are stored (bench/README.md, section 3). A questionnaire with counted ballots
    is frozen, so an option's polarity never changes under its counts.
    """

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), primary_key=True)
    rater_group_id: Mapped[int] = mapped_column(ForeignKey("rater_group.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    n_positive: Mapped[int] = mapped_column(Integer, default=0)
    n_negative: Mapped[int] = mapped_column(Integer, default=0)
    n_unknown: Mapped[int] = mapped_column(Integer, default=0)


class BallotTally(db.Model):
    """Running count of ballots per evaluation × rater group (see :class:`Tally`)."""

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), primary_key=True)
    rater_group_id: Mapped[int] = mapped_column(ForeignKey("rater_group.id"), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class User(UserMixin, db.Model):
    """An organiser-side account (organiser, liaison or viewer); raters never have one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.ORGANISER)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Part of every session cookie's user id: sign-out, a password change, disabling and an
    # organiser's reset bump it, and every cookie carrying an older value is refused.
    session_generation: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    unit: Mapped[Optional[Unit]] = relationship()

    def get_id(self) -> str:  # Flask-Login's alternative id: "<id>:<generation>"
        """The session's user id, which stops matching once the generation is bumped."""
        return f"{self.id}:{self.session_generation}"

    def end_sessions(self) -> None:
        """Refuse every session cookie issued so far (committed by the caller)."""
        self.session_generation = (self.session_generation or 1) + 1

    def set_password(self, password: str) -> None:
        """Store a salted hash; the plain password is never kept."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored (it has 256 bits of entropy)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class MakeUp(db.Model):
    """补课: an organiser's decision that a unit must redo its work and be evaluated again."""

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    followup_id: Mapped[Optional[int]] = mapped_column(ForeignKey("evaluation.id"))

    evaluation: Mapped[Evaluation] = relationship(foreign_keys=[evaluation_id])
    followup: Mapped[Optional[Evaluation]] = relationship(foreign_keys=[followup_id])
    unit: Mapped[Unit] = relationship()


class AuditLog(db.Model):
    """One organiser action, appended and never changed (triggers refuse UPDATE and DELETE).

    It records who did what to which object; it never records anything about a
    rater (no codes, no answers, no ballot ids).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    username: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class SignInFailures(db.Model):
    """Failed sign-ins counted per client address and hour, instead of one audit row each.

    Only the hour is kept, so these counts anchor no other row's time.
    """

    __table_args__ = (UniqueConstraint("address", "hour"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    hour: Mapped[str] = mapped_column(String(13))  # "2026-12-06T14", UTC
    failures: Mapped[int] = mapped_column(Integer, default=0)


def append_only_ddl(dialect: str) -> list[str]:
    """Trigger statements that make ``audit_log`` refuse UPDATE and DELETE on this dialect."""
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
            "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        ]
    return [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ]


@event.listens_for(AuditLog.__table__, "after_create")
def _audit_log_triggers(target, connection, **kw) -> None:  # noqa: ARG001
    for statement in append_only_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)


class PaperEntry(db.Model):
    """A paper ballot (纸质测评票) keyed in by one operator, waiting for reconciliation.

    It must hold the code's hash to pair the two operators' entries; the row is
    deleted in the very transaction that stores the ballot, so no link between
    a code and a stored ballot outlives the reconciliation.
    """

    __table_args__ = (UniqueConstraint("code_hash", "entry_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), index=True)
    rater_group_id: Mapped[int] = mapped_column(ForeignKey("rater_group.id"))
    entry_no: Mapped[int] = mapped_column(Integer)
    operator_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    answers: Mapped[str] = mapped_column(Text)  # JSON: [[item_id, seq, option_id, text], ...]


class Suggestion(db.Model):
    """征求意见 / 我为科学发展献一策: a public suggestion to a unit, moderated by its liaison.

    Anyone may send one without an account; only the day is kept, never an address.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / approved / rejected
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    moderated_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    moderated_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True))

    unit: Mapped[Unit] = relationship()


class AnalysisReport(db.Model):
    """领导班子分析检查报告: one round of a unit's report, its review evaluation and the verdict (四不通过)."""

    __table_args__ = (UniqueConstraint("unit_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)
    evaluation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("evaluation.id"))
    verdict: Mapped[str] = mapped_column(String(16), default="pending")  # pending / passed / returned
    # JSON object: the four conditions (scope, problems, thinking, measures) → bool, plus a note.
    conditions: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True))

    unit: Mapped[Unit] = relationship()
    evaluation: Mapped[Optional[Evaluation]] = relationship()


class RectificationItem(db.Model):
    """整改落实 (四明确一承诺): project, goal and deadline, measures, responsibility, public commitment."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    project: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[Optional[dt.date]] = mapped_column(Date)
    measures: Mapped[str] = mapped_column(Text, default="")
    responsible: Mapped[str] = mapped_column(String(100), default="")
    commitment: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16), default="immediate")  # immediate / period / hard
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned / in_progress / done
    done_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    # Set when the item answers a make-up decision (补课), closing the loop to the re-evaluation.
    makeup_id: Mapped[Optional[int]] = mapped_column(ForeignKey("make_up.id"))

    unit: Mapped[Unit] = relationship()


class Stage(db.Model):
    """One of a campaign's stages (学习调研 / 分析检查 / 整改落实) with its dates."""

    __table_args__ = (UniqueConstraint("campaign_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    ends_on: Mapped[Optional[dt.date]] = mapped_column(Date)

    steps: Mapped[list[Step]] = relationship(back_populates="stage", order_by="Step.position")


class Step(db.Model):
    """One of a stage's steps (环节), e.g. 认真组织学习, 深入开展调研."""

    __table_args__ = (UniqueConstraint("stage_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))

    stage: Mapped[Stage] = relationship(back_populates="steps")


class UnitStep(db.Model):
    """A unit's completion of one step."""

    __table_args__ = (UniqueConstraint("unit_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("step.id"), index=True)
    done_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


class LookBack(db.Model):
    """回头看 checklists: 三对比 after stage one, 三评议 after stage two; answers as JSON."""

    __table_args__ = (UniqueConstraint("unit_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # three_comparisons / three_reviews
    answers: Mapped[str] = mapped_column(Text, default="")
    completed_on: Mapped[Optional[dt.date]] = mapped_column(Date)


__all__ = [
    "AnalysisReport", "Answer", "ApiToken", "AuditLog", "Ballot", "BallotTally", "BallotCode", "Campaign", "CodeBatch", "CodeStatus", "Evaluation",
    "EvaluationStatus", "Item", "ItemKind", "MakeUp", "Option", "PaperEntry", "Polarity", "Questionnaire", "RaterGroup",
    "LookBack", "RectificationItem", "Role", "Scale", "SealedBallot", "Stage", "Step", "Suggestion", "Tally", "Unit", "UnitKind",
    "UnitStep", "User", "evaluation_group",
]
