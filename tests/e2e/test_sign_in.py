import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, username, password="correct horse battery"):
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_a_rep_signs_in_in_chinese_switches_to_english_and_back(page, shoot, rep):
    page.goto("/")
    assert "/accounts/login/" in page.url
    shoot("01-sign-in-zh")

    sign_in(page, "rep")
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("heading", level=1).count() == 1
    shoot("02-home-zh")

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    shoot("03-home-en")

    page.get_by_role("button", name="简体中文").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_a_wrong_password_is_refused_in_the_users_language(page, rep):
    sign_in(page, "rep", "wrong password")
    assert "/accounts/login/" in page.url
    assert page.get_by_role("alert").count() >= 1
    assert page.get_by_label("用户名").input_value() == "rep"
