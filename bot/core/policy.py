# Over 400 lines: the policy's rules and the models validating its file change together.
"""The reminder policy (pure): dataclasses, the default file and overrides.

`load_policy(path)` reads `bot/core/policy.yaml`, deep-merges the deployment's file on top
(only the keys it writes change) and validates everything against the models of
`bot.core.policy_file`. A plan can override the sections reminders / acknowledgement /
overdue / periodic under `plans: {CODE: {...}}`; `policy.for_plan(code)` returns the rules for
one plan. Errors raise `PolicyError` whose message names the offending field, e.g.
``policy plans.SR.reminders.days_before: ...``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.core.errors import InvalidInput
from bot.core.notices import Audience
from bot.core.workdays import SendingWindow

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")
PLAN_SECTIONS = ("reminders", "acknowledgement", "overdue", "periodic", "brief")
# the audiences whose 督办 can be batched
BATCHABLE = frozenset({Audience.LEADERS, Audience.COORDINATORS})
# the audiences whose day's stages can come as one brief (bot.core.brief)
BRIEFABLE = frozenset({Audience.LIAISONS})
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
_T = TypeVar("_T")


class PolicyError(InvalidInput, ValueError):
    """The policy is malformed; the message names the field."""


@dataclass(frozen=True)
class Recurrence:
    ends: tuple[tuple[int, int], ...]  # (month, day) of each period's end
    every_years: int = 1


@dataclass(frozen=True)
class PlanRules:
    """The rules that may differ per plan."""

    reminder_days: tuple[int, ...] = (30, 7, 1, 0)  # descending
    ack_chase_after: int = 3  # working days
    ack_escalate_after: int = 5  # working days
    overdue_notice_day: int = 1
    overdue_escalate_day: int = 7
    overdue_repeat_days: int = 7
    # ISO weekday on which every 督办 of an overdue item falls (the first such day on or after
    # its ladder day), so a liaison is chased on one day a week; 0: each item's own cycle
    liaison_weekday: int = 0
    periodic_lead_days: int = 14
    recurrences: Mapping[str, Recurrence] = field(default_factory=dict)
    # 督办 to these audiences goes as ONE summary per recipient per day (per plan) instead of
    # one message per item; liaisons get one message per item (they act on it) unless
    # flooded (`liaison_batch_over`)
    batch_for: frozenset[str] = BATCHABLE
    batch_max_items: int = 50  # items listed in one summary; the rest is counted
    # a liaison who would get more than this many overdue / 督办 messages in one pass gets ONE
    # 逾期事项清单 per plan instead (0: never; see bot.services.planning)
    liaison_batch_over: int = 5
    # these audiences get their stages of the day as ONE brief (今日待办) instead of a message
    # per item and stage (policy `brief.audiences`; bot.core.brief)
    brief_for: frozenset[str] = BRIEFABLE

    @property
    def max_lead_days(self) -> int:
        """How far ahead of a due date anything can happen (the snapshot query's horizon)."""
        return max(self.reminder_days, default=0)


@dataclass(frozen=True)
class DigestRules:
    weekday: int = 1  # ISO weekday
    at: time = time(9, 0)
    due_soon_days: int = 14
    max_items: int = 40
    to_coordinators: bool = True
    to_leaders: bool = True
    to_groups: bool = True


@dataclass(frozen=True)
class BriefRules:
    at: time = time(9, 0)  # local time of the morning brief (not before the window opens)
    max_lines: int = 20  # item lines listed; the rest is counted (a button opens each group)


@dataclass(frozen=True)
class Policy:
    window: SendingWindow
    defaults: PlanRules
    digest: DigestRules
    snooze_enabled: bool = True
    plans: Mapping[str, PlanRules] = field(default_factory=dict)
    brief: BriefRules = field(default_factory=BriefRules)

    def briefs(self, plan: str | None, audience: str) -> bool:
        """Whether `audience` gets the stages of items of `plan` in a brief."""
        return audience in self.for_plan(plan).brief_for

    @property
    def zone(self) -> ZoneInfo:
        return self.window.zone

    def for_plan(self, code: str | None) -> PlanRules:
        if code is None:
            return self.defaults
        return self.plans.get(code, self.defaults)

    @property
    def max_lead_days(self) -> int:
        return max([self.defaults.max_lead_days, *(r.max_lead_days for r in self.plans.values())])


# --- loading --------------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"policy file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file {path}: not valid YAML ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicyError(f"policy file {path}: must be a mapping of sections")
    return data


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, anything else (lists too) replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_policy(
    path: Path | str | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    timezone: str | None = None,
) -> Policy:
    """The default policy, with the deployment file `path` and then `overrides` merged on top.

    `timezone` (the deployment's setting) wins over the files' `timezone` when given.
    """
    data = _read_yaml(DEFAULT_POLICY_FILE)
    if path is not None:
        data = merge(data, _read_yaml(Path(path)))
    if overrides:
        data = merge(data, overrides)
    if timezone:
        data["timezone"] = timezone
    return policy_from_dict(data)


def policy_from_dict(data: Mapping[str, Any]) -> Policy:
    """Validate a complete policy mapping (defaults already merged in)."""
    return validate_policy(data)


# --- the file's models ---------------------------------------------------------------------
#
# The YAML is validated by the pydantic models below; every check raises a `_fail` error whose
# message is the one a deployment reads (`PolicyError("policy <field>: <message>")`).


def _fail(message: str, sub: str = "") -> PydanticCustomError:
    """A validation error with our message; `sub` is appended to the field's dotted name."""
    return PydanticCustomError("policy", "{message}", {"message": message, "sub": sub})


def _whole(minimum: int = 0, maximum: int | None = None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(f"expected a whole number, got {value!r}")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise _fail(f"must be {bound}, got {value}")
        return value

    return check


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(f"expected true or false, got {value!r}")
    return value


def _clock(value: Any) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 09:00 as a sexagesimal number of minutes.
        value = f"{value // 60:02d}:{value % 60:02d}"
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise _fail(f"expected HH:MM, got {value!r}") from exc


def _zone(value: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail(f"unknown time zone {value!r}") from exc


Whole = Annotated[int, BeforeValidator(_whole())]
Positive = Annotated[int, BeforeValidator(_whole(1))]
# a plan rule: missing (None) keeps the base rules' value; an explicit null is an error
RuleWhole = Annotated[int | None, BeforeValidator(_whole())]
RulePositive = Annotated[int | None, BeforeValidator(_whole(1))]
Weekday = Annotated[int, BeforeValidator(_whole(1, 7))]
Flag = Annotated[bool, BeforeValidator(_flag)]
Clock = Annotated[time, BeforeValidator(_clock)]
Zone = Annotated[ZoneInfo, BeforeValidator(_zone)]


class _Section(BaseModel):
    """A mapping of known keys (null reads as empty); unknown keys are named."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, populate_by_name=True)
    not_mapping: ClassVar[str] = "must be a mapping"
    falsy_is_empty: ClassVar[bool] = True  # `reminders:` (null), `[]` or `false`: no keys

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if cls.falsy_is_empty and not data:
            return {}
        if not isinstance(data, Mapping):
            raise _fail(cls.not_mapping)
        known = {field.alias or name for name, field in cls.model_fields.items()}
        for key in data:
            if key not in known:
                raise _fail(f"unknown key (known: {', '.join(sorted(known))})", f".{key}")
        return data


def _days(value: Any) -> Any:
    if not isinstance(value, list):
        raise _fail("must be a list of days, e.g. [30, 7, 1, 0]")
    return value


class Reminders(_Section):
    days_before: Annotated[list[Whole] | None, BeforeValidator(_days)] = None


class Acknowledgement(_Section):
    chase_after_working_days: RulePositive = None
    escalate_after_working_days: RulePositive = None


def _batch_for(value: Any) -> frozenset[Audience]:
    """`[leaders, coordinators]` (a subset), `true` (both) or `false` / `[]` / null (none)."""
    if value is None or value is False:
        return frozenset()
    if value is True:
        return BATCHABLE
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset):
        raise _fail("expected a list like [leaders, coordinators], or false")
    for i, item in enumerate(value):
        if item not in BATCHABLE:
            hint = " (liaisons: see overdue.liaison_batch_over)" if item == "liaisons" else ""
            raise _fail(f"expected leaders or coordinators, got {item!r}{hint}", f"[{i}]")
    return frozenset(Audience(item) for item in value)


def _threshold(value: Any) -> Any:
    return 0 if value is None or value is False else value


def _weekday_or_off(value: Any) -> Any:
    """An ISO weekday 1..7, or false / null / 0 for each item's own cycle."""
    if value is None or value is False:
        return 0
    return _whole(0, 7)(value)


class Overdue(_Section):
    notice_day: RulePositive = None
    escalate_day: RulePositive = None
    repeat_every_days: RulePositive = None
    liaison_weekday: Annotated[int | None, BeforeValidator(_weekday_or_off)] = None
    batch_for: Annotated[frozenset[Audience] | None, BeforeValidator(_batch_for)] = None
    batch_max_items: RulePositive = None
    liaison_batch_over: Annotated[RuleWhole, BeforeValidator(_threshold)] = None


def _month_day(value: Any) -> tuple[int, int]:
    match = _MONTH_DAY.match(str(value))
    month, day = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise _fail(f'expected "MM-DD", got {value!r}')
    return month, day


def _ends(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise _fail('must be a non-empty list of "MM-DD"')
    return value


class RecurrenceSpec(_Section):
    not_mapping: ClassVar[str] = 'must be a mapping like {ends: ["12-31"]}'
    falsy_is_empty: ClassVar[bool] = False

    ends: Annotated[
        list[Annotated[tuple[int, int], BeforeValidator(_month_day)]], BeforeValidator(_ends)
    ] = Field(default=None, validate_default=True)  # missing: "must be a non-empty list"
    every_years: Positive = 1

    def rule(self) -> Recurrence:
        return Recurrence(tuple(sorted(set(self.ends))), self.every_years)


def _recurrences(value: Any) -> Any:
    if value is not None and not isinstance(value, Mapping):
        raise _fail("must map a word (每年) to its periods")
    return value


class Periodic(_Section):
    lead_days: RuleWhole = None
    recurrences: Annotated[dict[str, RecurrenceSpec] | None, BeforeValidator(_recurrences)] = None


def _brief_for(value: Any) -> frozenset[Audience]:
    """`[liaisons]` (the default), or false / `[]` / null: a message per item and stage."""
    if value is None or value is False:
        return frozenset()
    if value is True:
        return BRIEFABLE
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset):
        raise _fail("expected a list like [liaisons], or false")
    for i, item in enumerate(value):
        if item not in BRIEFABLE:
            raise _fail(f"expected liaisons, got {item!r}", f"[{i}]")
    return frozenset(Audience(item) for item in value)


BriefFor = Annotated[frozenset[Audience] | None, BeforeValidator(_brief_for)]


class BriefAudiences(_Section):
    """What a plan may change of the brief: who gets it."""

    audiences: BriefFor = None


class Brief(_Section):
    audiences: BriefFor = None
    at: Clock = Field(default=time(9, 0), alias="time")
    max_lines: Positive = 20

    def rules(self) -> BriefRules:
        return BriefRules(at=self.at, max_lines=self.max_lines)


class PlanSections(_Section):
    """The sections a plan may override (and the policy's own defaults of them)."""

    reminders: Reminders = Field(default_factory=Reminders)
    acknowledgement: Acknowledgement = Field(default_factory=Acknowledgement)
    overdue: Overdue = Field(default_factory=Overdue)
    periodic: Periodic = Field(default_factory=Periodic)
    brief: BriefAudiences = Field(default_factory=BriefAudiences)

    def rules(self, base: PlanRules, prefix: str) -> PlanRules:
        """These sections over `base` (missing keys keep its values); `prefix` names them in
        the cross-field errors."""
        rem, ack, od, per = self.reminders, self.acknowledgement, self.overdue, self.periodic
        days = base.reminder_days
        if rem.days_before is not None:
            days = tuple(sorted(set(rem.days_before), reverse=True))
        chase = _given(ack.chase_after_working_days, base.ack_chase_after)
        escalate = _given(ack.escalate_after_working_days, base.ack_escalate_after)
        if escalate <= chase:
            raise PolicyError(
                f"policy {prefix}acknowledgement.escalate_after_working_days: "
                "must be greater than chase_after_working_days"
            )
        notice = _given(od.notice_day, base.overdue_notice_day)
        esc = _given(od.escalate_day, base.overdue_escalate_day)
        if esc <= notice:
            raise PolicyError(
                f"policy {prefix}overdue.escalate_day: must be greater than notice_day"
            )
        recurrences = dict(base.recurrences)
        if per.recurrences is not None:
            recurrences = {word: spec.rule() for word, spec in per.recurrences.items()}
        return PlanRules(
            reminder_days=days,
            ack_chase_after=chase,
            ack_escalate_after=escalate,
            overdue_notice_day=notice,
            overdue_escalate_day=esc,
            overdue_repeat_days=_given(od.repeat_every_days, base.overdue_repeat_days),
            liaison_weekday=_given(od.liaison_weekday, base.liaison_weekday),
            periodic_lead_days=_given(per.lead_days, base.periodic_lead_days),
            recurrences=recurrences,
            batch_for=_given(od.batch_for, base.batch_for),
            batch_max_items=_given(od.batch_max_items, base.batch_max_items),
            liaison_batch_over=_given(od.liaison_batch_over, base.liaison_batch_over),
            brief_for=_given(self.brief.audiences, base.brief_for),
        )


def _given(value: _T | None, default: _T) -> _T:
    return default if value is None else value


class Window(_Section):
    start: Clock = time(9, 0)
    end: Clock = time(18, 0)
    working_days_only: Flag = True

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise _fail("must be after window.start", ".end")
        return self


class Digest(_Section):
    weekday: Weekday = 1
    at: Clock = Field(default=time(9, 0), alias="time")
    due_soon_days: Whole = 14
    max_items: Positive = 40
    to_coordinators: Flag = True
    to_leaders: Flag = True
    to_groups: Flag = True

    def rules(self) -> DigestRules:
        return DigestRules(**self.model_dump(by_alias=False))


class Snooze(_Section):
    enabled: Flag = True


def _plans(value: Any) -> Any:
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise _fail("must be a mapping of plan code to overrides")
    for code, override in value.items():
        if not isinstance(override, Mapping):
            raise _fail("must be a mapping", f".{code}")
        for key in override:
            if key not in PLAN_SECTIONS:
                known = ", ".join(sorted(PLAN_SECTIONS))
                raise _fail(f"unknown key (known: {known})", f".{code}.{key}")
    return value


class PolicyFile(_Section):
    """The whole policy file (the defaults merged with the deployment's file); fields in the
    order they are checked."""

    timezone: Zone = ZoneInfo("Asia/Shanghai")
    window: Window = Field(default_factory=Window)
    reminders: Reminders = Field(default_factory=Reminders)
    acknowledgement: Acknowledgement = Field(default_factory=Acknowledgement)
    overdue: Overdue = Field(default_factory=Overdue)
    periodic: Periodic = Field(default_factory=Periodic)
    digest: Digest = Field(default_factory=Digest)
    brief: Brief = Field(default_factory=Brief)
    snooze: Snooze = Field(default_factory=Snooze)
    plans: Annotated[dict[str, dict[str, Any]], BeforeValidator(_plans)] = Field(
        default_factory=dict
    )


def _error(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> PolicyError:
    """The first error, as "policy <dotted field name>: <message>"."""
    first = exc.errors()[0]
    name = ""
    for part in (*prefix, *first["loc"]):
        name += f"[{part}]" if isinstance(part, int) else f".{part}" if name else str(part)
    sub = (first.get("ctx") or {}).get("sub", "")
    name = (name + sub).lstrip(".") if sub else name
    return PolicyError(f"policy {name}: {first['msg']}")


_M = TypeVar("_M", bound=BaseModel)


def _validate(model: type[_M], data: Any, prefix: tuple[str | int, ...] = ()) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _error(exc, prefix) from None


def validate_policy(data: Mapping[str, Any]) -> Policy:
    """A complete policy mapping (defaults already merged in) as a `Policy`."""
    parsed = _validate(PolicyFile, data)
    window = parsed.window
    defaults = PlanSections(
        reminders=parsed.reminders,
        acknowledgement=parsed.acknowledgement,
        overdue=parsed.overdue,
        periodic=parsed.periodic,
        brief=BriefAudiences(audiences=parsed.brief.audiences),
    ).rules(PlanRules(), "")
    base_sections = {name: data.get(name) or {} for name in PLAN_SECTIONS}
    # a plan overrides only who gets the brief (its time and length are the deployment's)
    base_sections["brief"] = {
        key: value for key, value in base_sections["brief"].items() if key == "audiences"
    }
    plans: dict[str, PlanRules] = {}
    for code, override in parsed.plans.items():
        merged = merge(base_sections, override)
        sections = _validate(PlanSections, merged, ("plans", str(code)))
        plans[str(code)] = sections.rules(defaults, f"plans.{code}.")
    return Policy(
        SendingWindow(
            start=window.start,
            end=window.end,
            zone=parsed.timezone,
            working_days_only=window.working_days_only,
        ),
        defaults,
        parsed.digest.rules(),
        parsed.snooze.enabled,
        plans,
        parsed.brief.rules(),
    )
