#!/usr/bin/env python3
"""СЭД: пример интеграции с API платформы — только стандартная библиотека Python (urllib).

С ключом API организации (области messages:read и messages:write) скрипт:
  1. забирает новые сообщения организации, ещё не зарегистрированные в её СЭД
     (GET /api/v1/org/inbox?folder=new&sed_registered=false, страницы по курсору);
  2. регистрирует первое из них в «СЭД» (здесь — вымышленной: печатает регистрационную
     карточку) и сообщает платформе номер и дату (POST …/sed-registration);
  3. отправляет промежуточный статус — «взять в работу» (POST …/assign);
  4. отправляет ответ с файлом (POST …/answer, multipart/form-data): он уходит на
     согласование руководителю организации, как из кабинета.

Запуск:
    SED_API_KEY=rvk_… python3 scripts/sed_demo.py --base http://127.0.0.1:5000 [--file ответ.pdf]

Каждый POST несёт свой Idempotency-Key, и при сетевой ошибке запрос повторяется с тем же
ключом: платформа выполнит его один раз. Ошибки приходят как application/problem+json
(RFC 9457) с пояснением по-русски — скрипт их печатает.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

# A one-page PDF: the answer's attachment when no --file is given.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
RETRIES = 3

# Called with (method, url, request headers, status, response headers, body) of every answer.
ResponseHook = Callable[[str, str, dict[str, str], int, dict[str, str], bytes], None]


class ApiError(Exception):
    """The platform refused: HTTP status and its problem+json body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        detail = problem.get("detail") or problem.get("title") or ""
        fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in (problem.get("errors") or {}).items())
        super().__init__(f"{status}: {detail}" + (f" ({fields})" if fields else ""))


class SedClient:
    """A tiny client of /api/v1 with an organisation key (Authorization: Bearer …)."""

    def __init__(self, base: str, key: str, on_response: ResponseHook | None = None) -> None:
        if not base.startswith(("http://", "https://")):
            raise ValueError("адрес платформы: http://… или https://…")
        self.base = base.rstrip("/")
        self.key = key
        self.on_response = on_response

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        url = self.base + path  # only paths: every request goes to the platform's scheme and host
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "application/json", **headers}
        for attempt in range(RETRIES):
            request = Request(url, data=body, method=method, headers=headers)  # noqa: S310
            try:
                with urlopen(request, timeout=30) as response:  # noqa: S310 (scheme checked)
                    status, got, data = response.status, dict(response.headers), response.read()
            except HTTPError as exc:
                status, got, data = exc.code, dict(exc.headers), exc.read()
            except URLError:
                if attempt + 1 == RETRIES:
                    raise
                time.sleep(1 + attempt)  # the same Idempotency-Key: done once whatever happens
                continue
            if self.on_response is not None:
                self.on_response(method, url, headers, status, got, data)
            if status < 400:
                return status, got, data
            try:
                problem = json.loads(data.decode("utf-8"))
            except ValueError:
                problem = {"detail": data.decode("utf-8", "replace")[:300]}
            running = str(problem.get("type", "")).endswith("#problem-idempotency-conflict")
            if running and attempt + 1 < RETRIES:
                time.sleep(1)  # the first try with this Idempotency-Key is still running
                continue
            raise ApiError(status, problem)
        raise RuntimeError("unreachable")

    def get(self, path: str, **query: Any) -> Any:
        args = {k: v for k, v in query.items() if v is not None}
        suffix = f"?{urlencode(args)}" if args else ""
        _status, _headers, data = self._send("GET", path + suffix, None, {})
        return json.loads(data)

    def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        _status, _headers, data = self._send("POST", path, body, headers)
        return json.loads(data)

    def post_multipart(
        self, path: str, fields: dict[str, str], files: list[tuple[str, str, bytes]]
    ) -> Any:
        """`files`: (field name, file name, content) — sent as multipart/form-data."""
        boundary = uuid.uuid4().hex
        parts: list[bytes] = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, filename, content in files:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        _status, _headers, data = self._send("POST", path, b"".join(parts), headers)
        return json.loads(data)


def pull_new(client: SedClient, limit: int = 50) -> list[dict[str, Any]]:
    """Every message of the «Новые» folder not yet registered in our СЭД, page by page."""
    found, cursor = [], None
    while True:
        page = client.get(
            "/api/v1/org/inbox",
            folder="new",
            sed_registered="false",
            sort="received",
            limit=limit,
            cursor=cursor,
        )
        found.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def _local(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone().strftime("%d.%m.%Y %H:%M")


def registration_card(message: dict[str, Any], number: str, day: date) -> str:
    """The pretend СЭД's registration card of an incoming letter."""
    lines = [
        "┌─ Регистрационная карточка входящего документа (СЭД, пример) ─",
        f"│ Рег. №:            {number} от {day:%d.%m.%Y}",
        "│ Вид документа:     обращение через платформу обратной связи",
        f"│ № на платформе:    {message['number']}",
        f"│ Корреспондент:     {message['applicant']['name']}",
        f"│ Тема:              {message['category']['name']} / {message['subcategory']['name']}",
        f"│ Адрес проблемы:    {message['territory']['name']}, {message['address'] or '—'}",
        f"│ Поступило:         {_local(message['registered_at'])}",
        f"│ Срок ответа:       {_local(message['answer_due_at'])}"
        + ("  (фаст-трек)" if message["fast_track"] else ""),
        f"│ Содержание:        {message['text'][:160]}",
        "└" + "─" * 62,
    ]
    return "\n".join(lines)


def run(
    client: SedClient,
    *,
    answer_text: str = "Проблема устранена. Акт выполненных работ — во вложении.",
    file_name: str = "ответ.pdf",
    file_content: bytes = DEMO_PDF,
    out: Callable[[str], None] = print,
    page_size: int = 50,
) -> dict[str, Any] | None:
    """The whole demo; returns the message's card after the answer (None: nothing new)."""
    me = client.get("/api/v1/me")
    out(f"Организация: {me['organization']['name']} (ключ {me['key']['prefix']}…)")
    new = pull_new(client, page_size)
    out(f"Новых сообщений, ещё не зарегистрированных в СЭД: {len(new)}")
    for item in new:
        out(f"  № {item['number']}: {item['subcategory']['name']} — {item['text'][:60]}")
    if not new:
        return None
    message = client.get(f"/api/v1/org/messages/{new[0]['id']}")
    today = date.today()
    number = f"ПОС-{message['number']}/{today:%y}"
    out(registration_card(message, number, today))
    registered = client.post_json(
        f"/api/v1/org/messages/{message['id']}/sed-registration",
        {"number": number, "date": today.isoformat()},
    )
    out(f"Платформа записала регистрацию: № {registered['sed']['number']}")
    taken = client.post_json(
        f"/api/v1/org/messages/{message['id']}/assign",
        {"state": registered["state"], "comment": f"Зарегистрировано в СЭД: № {number}"},
    )
    out(f"Статус: «{taken['state_label']}», исполнитель — {taken['executor']['name']}")
    answered = client.post_multipart(
        f"/api/v1/org/messages/{message['id']}/answer",
        {"text": answer_text, "state": taken["state"]},
        [("files", file_name, file_content)],
    )
    out(
        f"Ответ с файлом «{file_name}» отправлен: «{answered['state_label']}» — "
        "его утвердит руководитель организации, и заявитель получит ответ."
    )
    return answered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="СЭД: пример интеграции с API платформы")
    parser.add_argument("--base", default="http://127.0.0.1:5000", help="адрес платформы")
    parser.add_argument("--key", default=os.environ.get("SED_API_KEY"), help="или SED_API_KEY")
    parser.add_argument("--file", help="файл ответа (PDF или фото); по умолчанию — пример PDF")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("нужен ключ API: --key rvk_… или переменная SED_API_KEY")
    client = SedClient(args.base, args.key)
    kwargs: dict[str, Any] = {}
    if args.file:
        with open(args.file, "rb") as handle:
            kwargs = {"file_name": os.path.basename(args.file), "file_content": handle.read()}
    try:
        run(client, **kwargs)
    except ApiError as exc:
        print(f"Платформа ответила ошибкой {exc}", file=sys.stderr)
        return 1
    except URLError as exc:
        print(f"Платформа недоступна: {exc.reason}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
