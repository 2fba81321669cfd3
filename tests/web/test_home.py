import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, rep):
    client.force_login(rep)
    return client


def test_home_sends_an_anonymous_visitor_to_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_home_speaks_chinese_to_a_chinese_browser(signed_in):
    response = signed_in.get("/", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()
    assert "欢迎使用 KAM" in response.content.decode()


def test_home_speaks_english_to_an_english_browser(signed_in):
    response = signed_in.get("/", headers={"accept-language": "en-GB,en;q=0.8"})
    assert "Welcome to KAM" in response.content.decode()


def test_home_falls_back_to_english_for_other_languages(signed_in):
    response = signed_in.get("/", headers={"accept-language": "de-DE"})
    assert "Welcome to KAM" in response.content.decode()


def test_home_lists_the_six_stages_with_their_key_nodes_in_chinese(signed_in):
    page = signed_in.get("/", headers={"accept-language": "zh-CN"}).content.decode()
    for words in (
        "开发阶段",
        "销售进入阶段",
        "提案阶段",
        "投标阶段",
        "商务谈判阶段",
        "工程实施阶段",
    ):
        assert words in page


def test_the_language_switch_overrides_the_browser(signed_in):
    response = signed_in.post(
        reverse("set_language"),
        {"language": "en", "next": "/"},
        headers={"accept-language": "zh-CN"},
    )
    assert response.status_code == 302
    page = signed_in.get("/", headers={"accept-language": "zh-CN"}).content.decode()
    assert "Welcome to KAM" in page
