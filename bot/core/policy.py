"""The reminder policy: dataclasses, the default file and overrides.

`load_policy(path)` reads `schedules/policy.yaml`, deep-merges the deployment's file on top
(only the keys it writes change) and validates everything. A plan can override the sections
reminders / acknowledgement / overdue / periodic under `plans: {CODE: {...}}`;
`policy.for_plan(code)` returns the rules for one plan. Errors raise `PolicyError` whose
message names the offending field, e.g. ``policy plans.SR.reminders.days_before: ...``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.core.workdays import SendingWindow

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.yaml")
PLAN_SECTIONS = ("reminders", "acknowledgement", "overdue", "periodic")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
# the audiences whose 督办 can be batched (schedules.planner.LEADERS / COORDINATORS)
BATCHABLE = frozenset({"leaders", "coordinators"})


class PolicyError(ValueError):
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
    periodic_lead_days: int = 14
    recurrences: Mapping[str, Recurrence] = field(default_factory=dict)
    # 督办 to these audiences goes as ONE summary per recipient per day (per plan) instead of
    # one message per item; liaisons get one message per item (they act on it) unless
    # flooded (`liaison_batch_over`)
    batch_for: frozenset[str] = BATCHABLE
    batch_max_items: int = 50  # items listed in one summary; the rest is counted
    # a liaison who would get more than this many overdue / 督办 messages in one pass gets ONE
    # 逾期事项清单 per plan instead (0: never; see schedules.enqueue)
    liaison_batch_over: int = 5

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
class Policy:
    window: SendingWindow
    defaults: PlanRules
    digest: DigestRules
    snooze_enabled: bool = True
    plans: Mapping[str, PlanRules] = field(default_factory=dict)

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
    known = {"timezone", "window", "digest", "snooze", "plans", *PLAN_SECTIONS}
    _no_unknown(data, known, "")
    zone = _zone(data.get("timezone", "Asia/Shanghai"), "timezone")
    window = _window(_section(data, "window", ""), zone)
    defaults = _plan_rules(data, "", PlanRules())
    digest = _digest(_section(data, "digest", ""))
    snooze = _section(data, "snooze", "")
    _no_unknown(snooze, {"enabled"}, "snooze.")
    snooze_enabled = _bool(snooze.get("enabled", True), "snooze.enabled")
    plans_raw = data.get("plans") or {}
    if not isinstance(plans_raw, Mapping):
        raise PolicyError("policy plans: must be a mapping of plan code to overrides")
    plans: dict[str, PlanRules] = {}
    base_sections = {name: data.get(name) or {} for name in PLAN_SECTIONS}
    for code, override in plans_raw.items():
        prefix = f"plans.{code}."
        if not isinstance(override, Mapping):
            raise PolicyError(f"policy plans.{code}: must be a mapping")
        _no_unknown(override, set(PLAN_SECTIONS), prefix)
        merged = merge(base_sections, override)
        plans[str(code)] = _plan_rules(merged, prefix, defaults)
    return Policy(window, defaults, digest, snooze_enabled, plans)


def _fail(name: str, message: str) -> PolicyError:
    return PolicyError(f"policy {name}: {message}")


def _no_unknown(section: Mapping[str, Any], known: set[str], prefix: str) -> None:
    for key in section:
        if key not in known:
            raise _fail(f"{prefix}{key}", f"unknown key (known: {', '.join(sorted(known))})")


def _section(data: Mapping[str, Any], name: str, prefix: str) -> Mapping[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, Mapping):
        raise _fail(f"{prefix}{name}", "must be a mapping")
    return value


def _zone(value: Any, name: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail(name, f"unknown time zone {value!r}") from exc


def _clock_time(value: Any, name: str) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 09:00 as a sexagesimal number of minutes.
        value = f"{value // 60:02d}:{value % 60:02d}"
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise _fail(name, f"expected HH:MM, got {value!r}") from exc


def _int(value: Any, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, f"expected a whole number, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise _fail(name, f"must be {bound}, got {value}")
    return value


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(name, f"expected true or false, got {value!r}")
    return value


def _window(raw: Mapping[str, Any], zone: ZoneInfo) -> SendingWindow:
    _no_unknown(raw, {"start", "end", "working_days_only"}, "window.")
    start = _clock_time(raw.get("start", "09:00"), "window.start")
    end = _clock_time(raw.get("end", "18:00"), "window.end")
    if end <= start:
        raise _fail("window.end", "must be after window.start")
    only = _bool(raw.get("working_days_only", True), "window.working_days_only")
    return SendingWindow(start=start, end=end, zone=zone, working_days_only=only)


def _digest(raw: Mapping[str, Any]) -> DigestRules:
    known = {
        "weekday",
        "time",
        "due_soon_days",
        "max_items",
        "to_coordinators",
        "to_leaders",
        "to_groups",
    }
    _no_unknown(raw, known, "digest.")
    return DigestRules(
        weekday=_int(raw.get("weekday", 1), "digest.weekday", minimum=1, maximum=7),
        at=_clock_time(raw.get("time", "09:00"), "digest.time"),
        due_soon_days=_int(raw.get("due_soon_days", 14), "digest.due_soon_days"),
        max_items=_int(raw.get("max_items", 40), "digest.max_items", minimum=1),
        to_coordinators=_bool(raw.get("to_coordinators", True), "digest.to_coordinators"),
        to_leaders=_bool(raw.get("to_leaders", True), "digest.to_leaders"),
        to_groups=_bool(raw.get("to_groups", True), "digest.to_groups"),
    )


def _plan_rules(data: Mapping[str, Any], prefix: str, base: PlanRules) -> PlanRules:
    rem = _section(data, "reminders", prefix)
    _no_unknown(rem, {"days_before"}, f"{prefix}reminders.")
    days_raw = rem.get("days_before", list(base.reminder_days))
    name = f"{prefix}reminders.days_before"
    if not isinstance(days_raw, list):
        raise _fail(name, "must be a list of days, e.g. [30, 7, 1, 0]")
    days = tuple(sorted({_int(d, f"{name}[{i}]") for i, d in enumerate(days_raw)}, reverse=True))

    ack = _section(data, "acknowledgement", prefix)
    _no_unknown(
        ack,
        {"chase_after_working_days", "escalate_after_working_days"},
        f"{prefix}acknowledgement.",
    )
    chase = _int(
        ack.get("chase_after_working_days", base.ack_chase_after),
        f"{prefix}acknowledgement.chase_after_working_days",
        minimum=1,
    )
    escalate = _int(
        ack.get("escalate_after_working_days", base.ack_escalate_after),
        f"{prefix}acknowledgement.escalate_after_working_days",
        minimum=1,
    )
    if escalate <= chase:
        raise _fail(
            f"{prefix}acknowledgement.escalate_after_working_days",
            "must be greater than chase_after_working_days",
        )

    od = _section(data, "overdue", prefix)
    _no_unknown(
        od,
        {
            "notice_day",
            "escalate_day",
            "repeat_every_days",
            "batch_for",
            "batch_max_items",
            "liaison_batch_over",
        },
        f"{prefix}overdue.",
    )
    notice = _int(
        od.get("notice_day", base.overdue_notice_day), f"{prefix}overdue.notice_day", minimum=1
    )
    esc = _int(
        od.get("escalate_day", base.overdue_escalate_day),
        f"{prefix}overdue.escalate_day",
        minimum=1,
    )
    if esc <= notice:
        raise _fail(f"{prefix}overdue.escalate_day", "must be greater than notice_day")
    repeat = _int(
        od.get("repeat_every_days", base.overdue_repeat_days),
        f"{prefix}overdue.repeat_every_days",
        minimum=1,
    )
    batch_for = _batch_for(od.get("batch_for", base.batch_for), f"{prefix}overdue.batch_for")
    batch_max = _int(
        od.get("batch_max_items", base.batch_max_items),
        f"{prefix}overdue.batch_max_items",
        minimum=1,
    )
    over = od.get("liaison_batch_over", base.liaison_batch_over)
    liaison_over = (
        0 if over is None or over is False else _int(over, f"{prefix}overdue.liaison_batch_over")
    )

    per = _section(data, "periodic", prefix)
    _no_unknown(per, {"lead_days", "recurrences"}, f"{prefix}periodic.")
    lead = _int(per.get("lead_days", base.periodic_lead_days), f"{prefix}periodic.lead_days")
    rec_raw = per.get("recurrences")
    recurrences = dict(base.recurrences) if rec_raw is None else {}
    if rec_raw is not None:
        if not isinstance(rec_raw, Mapping):
            raise _fail(f"{prefix}periodic.recurrences", "must map a word (每年) to its periods")
        for word, spec in rec_raw.items():
            recurrences[str(word)] = _recurrence(spec, f"{prefix}periodic.recurrences.{word}")
    return PlanRules(
        reminder_days=days,
        ack_chase_after=chase,
        ack_escalate_after=escalate,
        overdue_notice_day=notice,
        overdue_escalate_day=esc,
        overdue_repeat_days=repeat,
        periodic_lead_days=lead,
        recurrences=recurrences,
        batch_for=batch_for,
        batch_max_items=batch_max,
        liaison_batch_over=liaison_over,
    )


def _batch_for(value: Any, name: str) -> frozenset[str]:
    """`[leaders, coordinators]` (a subset), `true` (both) or `false` / `[]` / null (none)."""
    if value is None or value is False:
        return frozenset()
    if value is True:
        return BATCHABLE
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | set | frozenset):
        raise _fail(name, "expected a list like [leaders, coordinators], or false")
    out = set()
    for i, item in enumerate(value):
        if item not in BATCHABLE:
            hint = " (liaisons: see overdue.liaison_batch_over)" if item == "liaisons" else ""
            raise _fail(f"{name}[{i}]", f"expected leaders or coordinators, got {item!r}{hint}")
        out.add(item)
    return frozenset(out)


def _recurrence(spec: Any, name: str) -> Recurrence:
    if not isinstance(spec, Mapping):
        raise _fail(name, 'must be a mapping like {ends: ["12-31"]}')
    _no_unknown(spec, {"ends", "every_years"}, f"{name}.")
    ends_raw = spec.get("ends")
    if not isinstance(ends_raw, list) or not ends_raw:
        raise _fail(f"{name}.ends", 'must be a non-empty list of "MM-DD"')
    ends: list[tuple[int, int]] = []
    for i, item in enumerate(ends_raw):
        match = _MONTH_DAY.match(str(item))
        month, day = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise _fail(f"{name}.ends[{i}]", f'expected "MM-DD", got {item!r}')
        ends.append((month, day))
    every = _int(spec.get("every_years", 1), f"{name}.every_years", minimum=1)
    return Recurrence(tuple(sorted(set(ends))), every)
