"""Log a test client in as a user without going through ESIA."""


def login_as(client, user) -> None:
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
