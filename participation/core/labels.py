"""Russian labels for enum values (roles, organization kinds, account levels), in one place."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from participation.core.organizations import OrganizationKind
from participation.core.users import AccountLevel, Role

ROLE_LABELS = {
    Role.ADMINISTRATOR: _l("Администратор"),
    Role.MODERATOR: _l("Модератор"),
    Role.COORDINATOR: _l("Координатор"),
    Role.EXECUTOR: _l("Исполнитель"),
    Role.HEAD: _l("Руководитель"),
    Role.CURATOR: _l("Куратор"),
    Role.OPERATOR: _l("Оператор приёма"),
    Role.AUTHORIZED: _l("Уполномоченный муниципальный"),
    Role.VOLUNTEER: _l("Волонтёр"),
    Role.REGIONAL_AUTHORIZED: _l("Уполномоченный региональный"),
}

ORGANIZATION_KIND_LABELS = {
    OrganizationKind.FEDERAL: _l("Федеральный орган исполнительной власти"),
    OrganizationKind.REGIONAL: _l("Региональный орган исполнительной власти"),
    OrganizationKind.MUNICIPAL: _l("Орган местного самоуправления"),
    OrganizationKind.INSTITUTION: _l("Подведомственное учреждение"),
    OrganizationKind.MANAGEMENT_COMPANY: _l("Управляющая организация"),
    OrganizationKind.REGIONAL_CENTRE: _l("Центр управления регионом"),
    OrganizationKind.OPERATOR: _l("Оператор платформы"),
}

ACCOUNT_LEVEL_LABELS = {
    AccountLevel.SIMPLIFIED: _l("Упрощённая"),
    AccountLevel.STANDARD: _l("Стандартная"),
    AccountLevel.CONFIRMED: _l("Подтверждённая"),
}


def role_label(role: Role | str) -> str:
    """«Администратор» for Role.ADMINISTRATOR (also accepts the stored value)."""
    return str(ROLE_LABELS[Role(role)])


def organization_kind_label(kind: OrganizationKind | str) -> str:
    """«Орган местного самоуправления» for OrganizationKind.MUNICIPAL, and so on."""
    return str(ORGANIZATION_KIND_LABELS[OrganizationKind(kind)])


def account_level_label(level: AccountLevel | str) -> str:
    """«Подтверждённая» for AccountLevel.CONFIRMED, and so on."""
    return str(ACCOUNT_LEVEL_LABELS[AccountLevel(level)])


def register_label_filters(app: Flask) -> None:
    """Expose the labels to templates: {{ m.role|role_label }}, {{ org.kind|org_kind_label }}."""
    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(organization_kind_label, "org_kind_label")
    app.add_template_filter(account_level_label, "account_level_label")
