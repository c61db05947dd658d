"""Callback data of the coordinator's buttons: ids and short codes only, well under 64 bytes.
Prefixes (unique across the bot): `cv` status detail views, `ca` acts on one assignment, `ci`
plan upload review (bot.telegram.coordinator.upload), `cu` /units pages, `cp` /pending pages,
`cr` 退回 / 驳回 buttons that ask for a reason, `sc` the scorecard picture's (coordinators and
leaders: bot.telegram.scorecard), `pw` /withdraw's confirmation."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

VIEW_OVERDUE = "o"
VIEW_UNITS = "u"
VIEW_SUMMARY = "s"
VIEW_UNIT = "n"  # /unit's page: the unit's liaisons above its summary


class StatusView(CallbackData, prefix="cv"):
    view: str  # VIEW_*
    scope: str  # bot.telegram.coordinator.parsing.scope_token
    page: int = 0


class CoordAct(CallbackData, prefix="ca"):
    action: str  # confirm | approve | remind ("all" assignment_id 0 with unit_all for remind)
    assignment_id: int


class ImportAct(CallbackData, prefix="ci"):
    token: str  # PendingImport.token
    act: str  # c confirm · x cancel · y / u / k ask year / unit / code · r replace · n new plan
    v: int  # the summary's version: an older summary's buttons are refused


class UnitsPage(CallbackData, prefix="cu"):
    page: int


class PendingPage(CallbackData, prefix="cp"):
    """A page of /pending."""

    page: int


class ReasonAsk(CallbackData, prefix="cr"):
    """退回 / 驳回 from a button: the reason is asked in one reply."""

    action: str  # return | deny
    assignment_id: int


CHART_CARD, CHART_TREND = "c", "t"


class ScorecardCb(CallbackData, prefix="sc"):
    """A scorecard button: plan id (0: every plan reached), unit id (0: none; a /status UNIT
    scope, marked), period w|m, chart c (scorecard) | t (trend)."""

    plan: int = 0
    unit: int = 0
    period: str = "w"
    chart: str = CHART_CARD


class PlanWithdraw(CallbackData, prefix="pw"):
    """/withdraw's confirmation: the plan's id and y (withdraw) or n (keep it)."""

    plan_id: int
    act: str
