"""Sign in, sign out and password change (issue 5, page 1)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
ZH = {"accept-language": "zh-CN,zh;q=0.9"}
EN = {"accept-language": "en-US,en;q=0.9"}


def _sign_in(client, username, password=PASSWORD, headers=EN, **extra):
    return client.post(
        reverse("web:login"), {"username": username, "password": password, **extra}, headers=headers
    )


def test_the_sign_in_page_speaks_chinese_to_a_chinese_browser(client):
    page = client.get(reverse("web:login"), headers=ZH).content.decode()

    assert "登录 KAM" in page
    assert '<label for="id_username">用户名:</label>' in page
    assert '<label for="id_password">密码:</label>' in page


def test_the_sign_in_page_speaks_english_to_an_english_browser(client):
    page = client.get(reverse("web:login"), headers=EN).content.decode()

    assert "Sign in to KAM" in page
    assert '<label for="id_username">Username:</label>' in page


def test_a_wrong_password_is_refused_in_chinese_keeping_the_user_name(client, rep):
    response = _sign_in(client, "rep", "wrong horse", headers=ZH)

    page = response.content.decode()
    assert response.status_code == 200
    assert "请输入一个正确的用户名和密码" in page
    assert 'value="rep"' in page
    assert "wrong horse" not in page
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_is_refused_in_english_keeping_the_user_name(client, rep):
    page = _sign_in(client, "rep", "wrong horse", headers=EN).content.decode()

    assert "Please enter a correct username and password" in page
    assert 'value="rep"' in page
    assert 'role="alert"' in page


def test_signing_in_opens_the_home_page(client, rep):
    response = _sign_in(client, "rep")

    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert client.get("/", headers=EN).status_code == 200


def test_signing_in_returns_to_the_page_that_asked_for_it(client, rep):
    response = _sign_in(client, "rep", next="/?tab=visits")

    assert response["Location"] == "/?tab=visits"


def test_signing_in_never_redirects_to_another_site(client, rep):
    response = _sign_in(client, "rep", next="https://evil.example/")

    assert response["Location"] == reverse("web:home")


def test_a_signed_in_user_asking_for_the_sign_in_page_goes_home(client, rep):
    client.force_login(rep)

    response = client.get(reverse("web:login"))

    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")


def test_signing_out_ends_the_session_and_says_so(client, rep):
    client.force_login(rep)

    response = client.post(reverse("web:logout"), headers=ZH, follow=True)

    assert response.redirect_chain == [(reverse("web:login"), 302)]
    assert "您已退出登录" in response.content.decode()
    assert client.get("/").status_code == 302


def test_signing_out_needs_a_post_so_a_link_cannot_sign_anyone_out(client, rep):
    client.force_login(rep)

    response = client.get(reverse("web:logout"))

    assert response.status_code == 405
    assert client.get("/").status_code == 200


def test_the_password_change_page_needs_a_signed_in_user(client):
    response = client.get(reverse("web:password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_changing_the_password_keeps_the_user_signed_in_and_confirms_it(client, rep):
    client.force_login(rep)

    response = client.post(
        reverse("web:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new battery",
            "new_password2": "a brand new battery",
        },
        headers=ZH,
        follow=True,
    )

    assert response.redirect_chain == [(reverse("web:home"), 302)]
    assert "您的密码已修改" in response.content.decode()
    rep.refresh_from_db()
    assert rep.check_password("a brand new battery")
    client.post(reverse("web:logout"))
    assert _sign_in(client, "rep", "a brand new battery").status_code == 302


def test_a_wrong_old_password_is_shown_next_to_its_field_in_chinese(client, rep):
    client.force_login(rep)

    response = client.post(
        reverse("web:password_change"),
        {
            "old_password": "not it",
            "new_password1": "a brand new battery",
            "new_password2": "a brand new battery",
        },
        headers=ZH,
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert '<ul class="errorlist" id="id_old_password_error"><li>你的旧密码不正确' in page
    assert 'aria-describedby="id_old_password_error"' in page
    rep.refresh_from_db()
    assert rep.check_password(PASSWORD)


def test_the_sign_in_page_switches_language_without_javascript(client):
    response = client.post(
        reverse("set_language"),
        {"language": "en", "next": reverse("web:login")},
        headers=ZH,
        follow=True,
    )

    assert response.redirect_chain == [(reverse("web:login"), 302)]
    assert "Sign in to KAM" in response.content.decode()


def test_the_language_chosen_before_signing_in_stays_after(client, rep):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"}, headers=EN)

    _sign_in(client, "rep", headers=EN)

    assert "欢迎使用 KAM" in client.get("/", headers=EN).content.decode()
