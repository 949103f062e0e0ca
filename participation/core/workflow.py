"""A small generic state machine: a transitions table as data, and the checks every feature needs.

A feature declares its states (a StrEnum), its actions, and a table of `Transition` rows
(state → action → target, with the roles allowed). `Workflow` answers the questions views,
services and tests ask of that table; the feature's own `transition()` service does the moving
(mutation, event row, notifications) after `Workflow.check()` has passed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from participation.core.errors import Conflict


class InvalidTransition(Conflict):
    """The action is not allowed in the current state, or not for these roles."""

    def __init__(self, state: Any, action: Any, roles: Collection[Any] = (), message: Any = None):
        super().__init__(message or _l("Это действие сейчас недоступно: состояние уже изменилось."))
        self.state = state
        self.action = action
        self.roles = frozenset(roles)


@dataclass(frozen=True)
class Transition:
    """One row of the table: in `source`, `action` by one of `roles` leads to `target`."""

    source: Any
    action: Any
    target: Any
    roles: frozenset[Any]


def t(source: Any, action: Any, target: Any, *roles: Any) -> Transition:
    """A Transition row, written compactly in a feature's table."""
    return Transition(source, action, target, frozenset(roles))


class Workflow:
    """Read-only view of a transitions table."""

    def __init__(self, transitions: Iterable[Transition]) -> None:
        self.transitions: tuple[Transition, ...] = tuple(transitions)
        self._by_key: dict[tuple[Any, Any], Transition] = {}
        for row in self.transitions:
            key = (row.source, row.action)
            if key in self._by_key:
                raise ValueError(f"duplicate transition {key!r}")
            if not row.roles:
                raise ValueError(f"transition {key!r} names no role")
            self._by_key[key] = row

    def get(self, state: Any, action: Any) -> Transition | None:
        """The row for this state and action, if the table has one."""
        return self._by_key.get((state, action))

    def allows(self, state: Any, action: Any, roles: Collection[Any]) -> bool:
        """Whether someone holding any of `roles` may take `action` in `state`."""
        row = self.get(state, action)
        return row is not None and bool(row.roles.intersection(roles))

    def check(self, state: Any, action: Any, roles: Collection[Any]) -> Transition:
        """The row to apply, or InvalidTransition."""
        row = self.get(state, action)
        if row is None or not row.roles.intersection(roles):
            raise InvalidTransition(state, action, roles)
        return row

    def actions(self, state: Any, roles: Collection[Any]) -> list[Any]:
        """Actions available in `state` to someone holding any of `roles`, in table order."""
        return [
            row.action
            for row in self.transitions
            if row.source == state and row.roles.intersection(roles)
        ]

    def acting_role(self, state: Any, action: Any, roles: Collection[Any]) -> Any:
        """Which of `roles` the table lets act here (the first in the row's order of `roles`)."""
        row = self.check(state, action, roles)
        for role in roles:
            if role in row.roles:
                return role
        raise InvalidTransition(state, action, roles)  # pragma: no cover - check() passed

    @property
    def states(self) -> set[Any]:
        return {row.source for row in self.transitions} | {r.target for r in self.transitions}
