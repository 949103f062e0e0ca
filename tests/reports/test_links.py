"""A dashboard's drill-down links are the URLs url_for() would build."""

from flask import url_for

from participation.reports.presenters import Filters


def test_a_filters_link_is_the_url_url_for_builds(app):
    with app.test_request_context("/reports/hotspots"):
        filters = Filters(form=None, tz="Asia/Yekaterinburg", region_id=1)
        filters.args = {"grain": "range", "start": "01.03.2026", "end": "31.03.2026", "q": "а б&в"}
        for endpoint, changes in [
            ("reports_manage.messages", {"indicator": "received", "municipality": 12}),
            ("reports_manage.messages", {"indicator": "overdue_now", "category": None}),
            ("reports_manage.region", {"municipality": None, "channel": "", "day": "1/2:3"}),
            ("reports_manage.region", {"grain": None, "start": None, "end": None, "q": None}),
        ]:
            args = {**filters.args, **changes}
            expected = url_for(endpoint, **{k: v for k, v in args.items() if v not in (None, "")})
            assert filters.link(endpoint, **changes) == expected
