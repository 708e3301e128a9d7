"""With PORTAL_REDIS_URL the login limit lives in Redis, shared by every worker."""

import os

import pytest
import redis

from tests.conftest import IN_CI
from tests.factories import csrf_token

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        if IN_CI:
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def test_two_app_instances_share_the_login_limit_through_redis(make_app, redis_url):
    store = redis.Redis.from_url(redis_url)
    store.flushdb()  # database 15 belongs to this test
    settings = {"PORTAL_REDIS_URL": redis_url, "PORTAL_LOGIN_RATE_LIMIT": "2 per minute"}
    first_worker, second_worker = make_app(**settings), make_app(**settings)
    attempts = []
    for worker in (first_worker, second_worker, second_worker):
        client = worker.test_client()
        token = csrf_token(client)
        attempts.append(
            client.post("/login", data={"csrf_token": token, "email": "someone@outlet.example", "password": "wrong"})
        )
    assert [a.status_code for a in attempts] == [200, 200, 429]
    assert store.keys("LIMITS:LIMITER/*/accounts.login/2/1/minute")
