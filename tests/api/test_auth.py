"""Who may call the API: the session (CSRF for writes) or a personal bearer token."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from kam.api.models import Token, hash_secret


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_anonymous_calls_are_refused_with_401_and_a_stable_code(call, db):
    response = call().get("accounts")

    assert response.status_code == 401
    assert response.data["code"] == "unauthenticated"
    assert response.data["field"] is None
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_acts_as_its_user_and_records_its_last_use(call, rep, north):
    token, secret = Token.issue(rep, "erp")

    response = call(**bearer(secret)).get("accounts")

    assert response.status_code == 200
    assert [a["name"] for a in response.data["items"]] == ["北化工集团"]
    token.refresh_from_db()
    assert token.last_used is not None


def test_only_the_hash_of_a_token_is_stored(rep):
    token, secret = Token.issue(rep, "erp")

    assert secret not in token.key_hash
    assert token.key_hash == hash_secret(secret)


def test_a_revoked_token_is_refused(call, rep, north):
    token, secret = Token.issue(rep, "erp")
    token.revoke()

    response = call(**bearer(secret)).get("accounts")

    assert response.status_code == 401
    assert response.data["code"] == "unauthenticated"


def test_a_token_of_a_deactivated_user_is_refused(call, rep):
    _, secret = Token.issue(rep, "erp")
    rep.is_active = False
    rep.save()

    assert call(**bearer(secret)).get("accounts").status_code == 401


def test_an_unknown_token_is_refused(call, db):
    assert call(**bearer("kam_nonsense")).get("accounts").status_code == 401


def test_a_token_writes_without_csrf(call, rep, north):
    _, secret = Token.issue(rep, "erp")
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/api/v1/accounts",
        data={"name": "新客户"},
        content_type="application/json",
        headers=bearer(secret),
    )

    assert response.status_code == 201


def test_a_session_write_needs_the_csrf_token(rep, north):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)

    refused = client.post(
        "/api/v1/accounts", data={"name": "新客户"}, content_type="application/json"
    )
    client.get("/api/v1/accounts")  # any page sets the CSRF cookie when rendered with it
    client.cookies["csrftoken"] = "a" * 32
    allowed = client.post(
        "/api/v1/accounts",
        data={"name": "新客户"},
        content_type="application/json",
        headers={"X-CSRFToken": "a" * 32},
    )

    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert allowed.status_code == 201


def test_a_session_reads_without_csrf(rep, north):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)

    assert client.get("/api/v1/accounts").status_code == 200


# --- kam token ---------------------------------------------------------------


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_token_create_prints_the_secret_once_and_it_works(call, rep, north):
    out, err = run("create", "rep", "--name", "erp")

    secret = out.strip()
    assert secret.startswith("kam_")
    assert "not shown again" in err
    assert call(**bearer(secret)).get("accounts").status_code == 200
    assert Token.objects.get(name="erp").key_hash == hash_secret(secret)


def test_token_revoke_by_name_or_id_stops_it_at_once(call, rep, north):
    first = run("create", "rep", "--name", "erp")[0].strip()
    second = run("create", "rep", "--name", "bi")[0].strip()

    run("revoke", "erp")
    run("revoke", str(Token.objects.get(name="bi").pk))

    assert call(**bearer(first)).get("accounts").status_code == 401
    assert call(**bearer(second)).get("accounts").status_code == 401


def test_token_list_shows_a_users_tokens_without_secrets(rep):
    secret = run("create", "rep", "--name", "erp")[0].strip()
    run("revoke", "erp")

    out, _ = run("list", "rep")

    assert "erp" in out and "revoked" in out
    assert secret not in out


def test_token_commands_fail_loudly_for_unknown_users_and_tokens(db):
    with pytest.raises(CommandError):
        run("create", "nobody")
    with pytest.raises(CommandError):
        run("revoke", "nothing")
