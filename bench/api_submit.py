"""Benchmark: message submission through the resident API next to the form's, and a bare hello.

Run by hand:  .venv/bin/python bench/api_submit.py [--requests 2000] [--threads 16] [--profile 100]

Builds its own PostgreSQL database `bench_api_submit` the way bench/appeals_submit.py builds
its own (its functions: the demo region, residents of Уфа, the form's requests with session
cookies and CSRF tokens made with the app's own signer). Each resident of the API part gets an
OAuth access token minted through participation.api.oauth.services, as the code exchange
issues it (an app registered, an authorisation code with a PKCE challenge, the app session
started with its token pair, the code spent). Then, in one run and with one gunicorn
configuration (bench/_common.py: GTHREAD_4), each after a warm-up of 200 requests:
  - a bare Flask app answering GET /hello (the baseline),
  - the real app taking the form's POST /appeals/new (→ 302 to the new message),
  - the same app taking POST /api/v1/my/appeals: multipart/form-data with the same fields,
    the resident's Bearer token and a unique Idempotency-Key (→ 201 with the message's card),
and prints the rates, the CPU time per request (from /proc) of the gunicorn workers and of
the PostgreSQL backends serving the bench database, and the ratios each / hello and API / form.
Every timed form submission must end in the redirect, every timed API one in 201, and each
timed run must store exactly that many messages.

With --profile N it then submits N more messages each way in this process (Flask test client
on the same database) under cProfile and prints, per path, SQL statements per request and
where the API path spends its time (cumulative, the app's own functions).

Needs PostgreSQL at BENCH_PG (default postgresql://postgres@127.0.0.1:5432) and Redis at
BENCH_REDIS (default redis://127.0.0.1:6379/2; that database is emptied afterwards).
"""

from __future__ import annotations

import uuid

import _common
import appeals_submit

DB_NAME = "bench_api_submit"
REDIS = appeals_submit.REDIS
GUNICORN = _common.GTHREAD_4
PATH = "/api/v1/my/appeals"
REDIRECT = "ru.participation.bench:/oauth"
WIDTH = 38
PROFILE_LINES = 30

# The tokens are minted before gunicorn starts; let them outlive a long run.
_app = _common.app_factory(
    DB_NAME, "bench-api-submit-", REDIS_URL=REDIS, OAUTH_ACCESS_TOKEN_MINUTES="60"
)


def bench_app(warm: bool = False):
    """gunicorn entry point: the real application on the bench database."""
    app = _app()
    if warm:
        appeals_submit.warm_suggester(app)
    return app


def _tokens(app, user_ids: list[int]) -> list[str]:
    """An access token (scope "appeals") per resident, through the OAuth services."""
    from authlib.common.security import generate_token
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    from participation.api.oauth import services as oauth
    from participation.core.tokens import new_token
    from participation.core.users import User
    from participation.extensions import db

    with app.app_context():
        client = oauth.register_app("Бенчмарк API", [REDIRECT], ["appeals"])
        tokens = []
        for user_id in user_ids:
            user = db.session.get(User, user_id)
            raw_code = new_token()
            code = oauth.issue_authorization_code(
                raw_code,
                client,
                user,
                redirect_uri=REDIRECT,
                scope="appeals",
                code_challenge=create_s256_code_challenge(generate_token(64)),
                device_name="Бенчмарк",
            )
            access = new_token()
            pair = {"access_token": access, "refresh_token": new_token(), "scope": "appeals"}
            oauth.start_app_session(code, user, pair)
            oauth.mark_code_used(code)
            tokens.append(access)
        db.session.commit()
        db.session.remove()
    return tokens


def _multipart(fields: dict[str, str]) -> tuple[str, bytes]:
    """(Content-Type, body) of multipart/form-data carrying `fields` (no files)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return f"multipart/form-data; boundary={boundary}", body


def _api_requests(
    tokens: list[str], subcategory_id: int, territory_id: int
) -> list[tuple[str, str, dict[str, str], bytes]]:
    """POST /api/v1/my/appeals per token: the form's fields, a unique Idempotency-Key."""
    prepared = []
    for n, token in enumerate(tokens):
        content_type, body = _multipart(
            {
                "text": appeals_submit.TEXTS[n % len(appeals_submit.TEXTS)].format(n=n + 1),
                "subcategory_id": str(subcategory_id),
                "territory_id": str(territory_id),
                "address": f"г. Уфа, ул. Ленина, д. {n % 150 + 1}",
            }
        )
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": str(uuid.uuid4()),
            "Content-Type": content_type,
            "Accept": "application/json",
        }
        prepared.append(("POST", PATH, headers, body))
    return prepared


def _profile(app, form_jobs, api_jobs) -> None:
    """Submit each list in this process under cProfile: SQL per request, the API's hot spots."""
    import cProfile
    import pstats

    from sqlalchemy import event

    from participation.extensions import db

    with app.app_context():
        engine = db.engine
    client = app.test_client(use_cookies=False)  # each job carries its own Cookie header
    statements = [0]

    def count(*_args) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    results = {}
    try:
        for label, jobs, expected in (("form", form_jobs, 302), ("API", api_jobs, 201)):
            # The first few outside the profile: the test client's own first-request costs.
            for method, path, headers, body in jobs[:5]:
                client.open(path, method=method, headers=headers, data=body)
            statements[0] = 0
            profiler = cProfile.Profile()
            statuses: dict[int, int] = {}
            profiler.enable()
            for method, path, headers, body in jobs[5:]:
                status = client.open(path, method=method, headers=headers, data=body).status_code
                statuses[status] = statuses.get(status, 0) + 1
            profiler.disable()
            if statuses != {expected: len(jobs) - 5}:
                raise SystemExit(f"profile run of the {label}: {statuses}")
            results[label] = (profiler, statements[0] / (len(jobs) - 5))
    finally:
        event.remove(engine, "before_cursor_execute", count)

    n = len(api_jobs) - 5
    print(f"\nIn-process profile ({n} submissions each way, Flask test client, cProfile on):")
    for label, (profiler, sql) in results.items():
        total = pstats.Stats(profiler).total_tt
        print(f"  {label:5} {1000 * total / n:7.2f} ms per request, {sql:.1f} SQL statements")
    print("  API path, the app's functions by cumulative time (ms per request, calls per request):")
    rows = pstats.Stats(results["API"][0]).stats  # (file, line, name) → (cc, nc, tt, ct, callers)
    ours = sorted(
        ((ct, nc, file, line, name) for (file, line, name), (_cc, nc, _tt, ct, _c) in rows.items()
         if "/participation/" in file),
        reverse=True,
    )  # fmt: skip
    for ct, nc, file, line, name in ours[:PROFILE_LINES]:
        where = file.split("/participation/", 1)[1]
        print(f"   {1000 * ct / n:7.2f} {nc / n:5.1f}  {where}:{line} {name}")


def main() -> None:
    from redis import Redis

    args = _common.setup(
        2000,
        "bench-api-submit-",
        DB_NAME,
        lambda p: p.add_argument("--profile", type=int, default=0, metavar="N"),
    )
    warm = _common.WARM_UP
    each = args.requests + warm
    extra = args.profile + 5 if args.profile else 0
    print(
        f"Preparing the demo region and {2 * (each + extra):,} residents "
        f"({args.requests:,} + {warm} warm-up for the form and as many for the API)…",
        flush=True,
    )
    app = bench_app()
    subcategory_id, territory_id, user_ids = appeals_submit._prepare(app, 2 * (each + extra))
    form_ids, api_ids = user_ids[: each + extra], user_ids[each + extra :]
    forms = appeals_submit._requests(app, subcategory_id, territory_id, form_ids)
    apis = _api_requests(_tokens(app, api_ids), subcategory_id, territory_id)
    form_timed, form_warm = forms[: args.requests], forms[args.requests : each]
    api_timed, api_warm = apis[: args.requests], apis[args.requests : each]

    hello = _common.hello_baseline(GUNICORN, args, WIDTH)
    with _common.Gunicorn("api_submit:bench_app(True)", GUNICORN) as server:
        server.wait("/healthz")
        _common.load(server.port, form_warm, args.threads)
        _common.load(server.port, api_warm, args.threads)
        before = appeals_submit._counts(app)[0]
        form = _common.timed(server, form_timed, args.threads, DB_NAME)
        middle = appeals_submit._counts(app)[0]
        api = _common.timed(server, api_timed, args.threads, DB_NAME)
        after = appeals_submit._counts(app)[0]
    print(f"{'POST /appeals/new (form)':<{WIDTH}}{form.rate:8.0f} req/s  {form.statuses}")
    print(f"{'POST /api/v1/my/appeals (API)':<{WIDTH}}{api.rate:8.0f} req/s  {api.statuses}")
    print(f"{'ratio form / hello':<{WIDTH}}{form.rate / hello.rate:8.3f}")
    print(f"{'ratio API / hello':<{WIDTH}}{api.rate / hello.rate:8.3f}")
    print(f"{'ratio API / form':<{WIDTH}}{api.rate / form.rate:8.3f}")
    _common.report_cpu(WIDTH, ("hello", hello.cpu), ("form", form.cpu), ("API", api.cpu))
    app_ratio = api.cpu.app / api.cpu.requests / (form.cpu.app / form.cpu.requests)
    print(f"{'CPU API / form, app workers':<{WIDTH}}{app_ratio:8.3f}")
    total_ratio = api.cpu.total_ms / form.cpu.total_ms
    print(f"{'CPU API / form, with PostgreSQL':<{WIDTH}}{total_ratio:8.3f}")

    stored_form, stored_api = middle - before, after - middle
    print(
        f"messages stored: form {stored_form}, API {stored_api} (expected {args.requests} each; "
        f"{2 * warm} more by the warm-ups)"
    )
    failed = (
        form.statuses != {302: args.requests}
        or api.statuses != {201: args.requests}
        or stored_form != args.requests
        or stored_api != args.requests
    )
    if not failed and args.profile:
        _profile(app, forms[each:], apis[each:])
    Redis.from_url(REDIS).flushdb()
    if failed:
        raise SystemExit("some submissions did not go through")


if __name__ == "__main__":
    main()
