"""The shared layout: landmarks, navigation, language, the user, htmx and messages."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, RequestFactory
from django.urls import reverse

from kam.web.i18n import person_name
from kam.web.navigation import Section, sections_for

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    """Collects what the accessibility checks need from a page."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.label_for: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "label" and attributes.get("for"):
            self.label_for.add(attributes["for"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])

    def unlabelled_inputs(self) -> list[dict]:
        return [
            attributes
            for tag, attributes in self.tags
            if tag in {"input", "select", "textarea"}
            and attributes.get("type") not in {"hidden", "submit"}
            and attributes.get("id") not in self.label_for
            and not attributes.get("aria-label")
        ]


def _parse(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def _pages(client):
    """Every page this slice serves, for a signed-in client."""
    return [reverse("web:home"), reverse("web:password_change")]


def test_every_input_on_every_page_has_a_label(client, rep):
    pages = [_parse(client.get(reverse("web:login")))]
    pages.append(_parse(client.post(reverse("web:login"), {"username": "rep", "password": "x"})))
    client.force_login(rep)
    pages += [_parse(client.get(url)) for url in _pages(client)]

    for page in pages:
        assert page.unlabelled_inputs() == []


def test_the_layout_has_a_skip_link_and_landmarks(client, rep):
    client.force_login(rep)
    page = client.get("/").content.decode()

    assert re.search(r'<a class="skip-link" href="#main">', page)
    assert '<main id="main" tabindex="-1">' in page
    assert "<header" in page
    assert '<nav class="site-nav" aria-label="Main sections">' in page


def test_every_link_in_the_layout_opens_a_page(client, rep, admin):
    for user in (rep, admin):
        client.force_login(user)
        for url in _pages(client):
            for link in _parse(client.get(url)).links:
                if link.startswith("#"):
                    continue
                assert client.get(link).status_code == 200, (user, url, link)


def test_the_layout_names_the_signed_in_user_the_chinese_way(client, rep):
    client.force_login(rep)

    page = client.get("/", headers={"accept-language": "zh-CN"}).content.decode()

    assert "王伟" in page


def test_sign_out_is_a_form_post_with_a_csrf_token(client, rep):
    client.force_login(rep)

    page = client.get("/").content.decode()

    form = re.search(r'<form action="/accounts/logout/" method="post">(.*?)</form>', page, re.S)
    assert form is not None
    assert 'name="csrfmiddlewaretoken"' in form.group(1)


def test_anonymous_visitors_see_no_sections_and_no_sign_out(client):
    page = client.get(reverse("web:login")).content.decode()

    assert "site-nav" not in page
    assert "/accounts/logout/" not in page


def test_the_language_switch_offers_the_other_language_as_a_plain_form(client, rep):
    client.force_login(rep)

    page = client.get("/", headers={"accept-language": "zh-CN"}).content.decode()

    switch = re.search(r'<form class="language-switch"(.*?)</form>', page, re.S).group(1)
    assert 'action="/i18n/setlang/" method="post"' in switch
    assert '<button type="submit" name="language" value="en" lang="en">English</button>' in switch
    assert 'value="zh-hans"' not in switch
    assert '<input name="next" type="hidden" value="/">' in switch


def test_htmx_comes_from_our_static_vendor_folder(client, rep):
    client.force_login(rep)

    page = client.get("/").content.decode()

    assert '<script src="/static/vendor/htmx.org/htmx.min.js" defer></script>' in page
    assert "unpkg" not in page
    assert "cdn" not in page.lower()


def test_htmx_requests_carry_a_csrf_token_the_server_accepts(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    page = client.get("/").content.decode()
    token = re.search(r"""hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""", page).group(1)

    accepted = client.post(
        reverse("set_language"), {"language": "en", "next": "/"}, headers={"X-CSRFToken": token}
    )
    refused = client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert accepted.status_code == 302
    assert refused.status_code == 403


def test_our_stylesheet_is_served_from_our_own_static_folder(client, rep):
    client.force_login(rep)

    page = client.get("/").content.decode()

    assert '<link rel="stylesheet" href="/static/kam/kam.css">' in page
    stylesheet = finders.find("kam/kam.css")
    assert stylesheet
    assert ":focus-visible" in Path(stylesheet).read_text(encoding="utf-8")


def test_messages_are_shown_once_and_announced(client, rep):
    client.force_login(rep)
    client.post(
        reverse("web:password_change"),
        {
            "old_password": "correct horse battery",
            "new_password1": "a brand new battery",
            "new_password2": "a brand new battery",
        },
    )

    first = client.get("/", headers={"accept-language": "en"}).content.decode()
    second = client.get("/", headers={"accept-language": "en"}).content.decode()

    assert '<ul class="messages" role="status">' in first
    assert "Your password was changed." in first
    assert "Your password was changed." not in second


def _request(user, path="/"):
    request = RequestFactory().get(path)
    request.user = user
    return request


def test_a_section_whose_page_does_not_exist_yet_is_left_out(rep):
    sections = (Section("web:home", "My day"), Section("nowhere:list", "Nowhere"))

    items = sections_for(_request(rep), sections)

    assert [item.label for item in items] == ["My day"]


def test_an_admin_only_section_is_shown_to_admins_only(rep, manager, admin):
    sections = (Section("web:home", "My day"), Section("web:password_change", "Settings", True))
    manager.is_staff = True  # staff may use the admin site, but settings are the admins'

    assert [i.label for i in sections_for(_request(rep), sections)] == ["My day"]
    assert [i.label for i in sections_for(_request(manager), sections)] == ["My day"]
    assert [i.label for i in sections_for(_request(admin), sections)] == ["My day", "Settings"]


def test_the_current_section_is_the_one_the_path_lies_under(rep):
    sections = (Section("web:home", "My day"), Section("web:password_change", "Password"))

    items = sections_for(_request(rep, "/accounts/password_change/extra/"), sections)

    assert [(i.label, i.current) for i in items] == [("My day", False), ("Password", True)]


def test_the_home_section_is_current_only_on_the_home_page(client, rep):
    client.force_login(rep)

    page = client.get("/").content.decode()

    assert '<a href="/" aria-current="page">' in page


def test_people_are_named_in_their_own_order():
    class U:
        def __init__(self, first, last, username="u"):
            self.first_name, self.last_name, self.username = first, last, username

        def get_username(self):
            return self.username

    assert person_name(U("伟", "王")) == "王伟"
    assert person_name(U("Wei", "Wang")) == "Wei Wang"
    assert person_name(U("", "", "rep7")) == "rep7"
