"""The scopes a resident can grant an app, with the words the consent page uses for them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# Name → what the resident is told the app may do. The order is the consent page's order.
SCOPES = {
    "profile": _l("видеть ваши данные из профиля: ФИО, муниципальное образование, контакты"),
    "appeals": _l("отправлять сообщения о проблемах от вашего имени, видеть их ход и ответы"),
    "votes": _l("показывать голосования и опросы, голосовать и отвечать от вашего имени"),
}
SCOPE_NAMES = frozenset(SCOPES)
# Short names for the profile's list of app sessions.
SCOPE_TITLES = {
    "profile": _l("данные профиля"),
    "appeals": _l("сообщения"),
    "votes": _l("голосования и опросы"),
}


def scope_list(scope: str | None) -> list[str]:
    """The scope names of a space-separated string, in the consent page's order."""
    wanted = set((scope or "").split())
    return [name for name in SCOPES if name in wanted]


def scope_titles(scope: str | None) -> str:
    """«данные профиля, сообщения» for "appeals profile" (a template filter)."""
    return ", ".join(str(SCOPE_TITLES[name]) for name in scope_list(scope))
