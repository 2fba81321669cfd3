"""The daily mix under load, for ``bench/load.py`` (locust, headless, loopback only).

Each simulated user signs in through the sign-in form as one of the generated users
(``KAM_BENCH_USERS``: a comma-separated list, handed out in turn), finds the deals
and accounts it may see through the API, then works through an ordinary day with
1-3 s between requests: My day, the opportunity list, an opportunity (and its
buying center), an account, the funnel; and one request in five is a write: an
activity logged through the page's form (``actions.log_activity``, as a rep does).

    KAM_BENCH_USERS=rep001,mgr01,admin KAM_BENCH_PASSWORD=... \\
        python -m locust -f bench/locustfile.py --host http://127.0.0.1:8000 ...
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import re
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task

USERS = [name for name in os.environ.get("KAM_BENCH_USERS", "rep001").split(",") if name]
PASSWORD = os.environ.get("KAM_BENCH_PASSWORD", "bench-password")
_next_user = itertools.count()
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KINDS = ("call", "visit", "email", "meeting")


# Every request's name and time (ms), one a line, when KAM_BENCH_TIMES names a file:
# bench/load.py reads it to give the figures of the day's work without the sign-ins.
_times = open(os.environ["KAM_BENCH_TIMES"], "a") if os.environ.get("KAM_BENCH_TIMES") else None  # noqa: SIM115


@events.request.add_listener
def _record(request_type, name, response_time, **_kwargs):
    if _times is not None:
        _times.write(f"{request_type} {name}\t{response_time:.1f}\n")


@events.quitting.add_listener
def _close(**_kwargs):
    if _times is not None:
        _times.close()


@events.init.add_listener
def _loopback_only(environment, **_kwargs):
    host = urlsplit(environment.host or "").hostname
    assert host == "127.0.0.1", f"the load test runs on loopback only, not {host!r}"


class KamUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.username = USERS[next(_next_user) % len(USERS)]
        login = self.client.get("/accounts/login/", name="sign-in form")
        token = _CSRF_INPUT.search(login.text)
        assert token, "no CSRF token on the sign-in form"
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1),
            },
            headers={"Referer": self.host + "/accounts/login/"},
            allow_redirects=False,
            name="sign in",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"{self.username} could not sign in ({response.status_code})")
                raise RuntimeError(f"{self.username} could not sign in")
        deals = self.client.get(
            "/api/v1/opportunities?outcome=open&limit=50", name="/api/v1/opportunities [ids]"
        ).json()["items"]
        accounts = self.client.get(
            "/api/v1/accounts?limit=50", name="/api/v1/accounts [ids]"
        ).json()["items"]
        self.deals = [d["id"] for d in deals]
        self.accounts = [a["id"] for a in accounts]
        assert self.deals and self.accounts, f"{self.username} sees no deals or accounts"

    # -- reads: four in five ---------------------------------------------------

    @task(4)
    def my_day(self):
        self.client.get("/", name="/ (My day)")

    @task(4)
    def opportunity_list(self):
        if random.random() < 0.3:
            self.client.get("/opportunities/?outcome=open&grade=A", name="/opportunities/?filter")
        else:
            page = random.choice(("", "?page=2"))
            self.client.get(f"/opportunities/{page}", name="/opportunities/")

    @task(4)
    def opportunity(self):
        pk = random.choice(self.deals)
        if random.random() < 0.25:
            self.client.get(
                f"/opportunities/{pk}/buying-center/", name="/opportunities/[id]/buying-center/"
            )
        else:
            self.client.get(f"/opportunities/{pk}/", name="/opportunities/[id]/")

    @task(2)
    def account(self):
        pk = random.choice(self.accounts)
        self.client.get(f"/customers/{pk}/", name="/customers/[id]/")

    @task(2)
    def funnel(self):
        self.client.get("/funnel/", name="/funnel/")

    # -- writes: one in five -----------------------------------------------------

    @task(4)
    def log_activity(self):
        """A call or visit logged on the activity form, as a rep does after it."""
        account = random.choice(self.accounts)
        # The CSRF cookie (renewed at sign-in) is what the form's hidden field carries.
        token = self.client.cookies.get("csrftoken")
        with self.client.post(
            "/activities/new/",
            data={
                "csrfmiddlewaretoken": token,
                "kind": random.choice(KINDS),
                "on": dt.date.today().isoformat(),
                "account": account,
                "notes": "load test",
                "next_step": "follow up",
            },
            headers={"Referer": self.host + "/activities/new/"},
            allow_redirects=False,
            name="/activities/new/ (write)",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"activity not logged ({response.status_code})")
