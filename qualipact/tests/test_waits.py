"""The suite does not depend on an idle machine.

Each test plays a slow machine (a stalled server, a clock that jumps between two steps of
a test, a slow example) against the shared helpers in the root conftest, and shows that
the test around it would still pass: requests are retried on every kind of failure in
transit, clocks that the code under test reads stay put, property tests are not judged
by speed, and waits end on conditions.
"""

import socket
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from conftest import PERSONAS, http_fetch, totp_code, wait_until

database = pytest.mark.django_db(databases=["default", "keys"])


@pytest.fixture
def flaky_server():
    """A local HTTP server whose first connection never gets an answer (a timeout), whose
    second is closed without one (cut short), and whose later ones get 200."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stalled: list[socket.socket] = []
    stop = threading.Event()

    def serve():
        count = 0
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            count += 1
            if count == 1:
                stalled.append(connection)  # read, never answered
                continue
            with connection:
                connection.recv(65536)
                if count > 2:
                    connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    listener.close()
    for connection in stalled:
        connection.close()


def test_it_retries_a_request_that_timed_out_or_was_cut_short(flaky_server):
    tries = []

    def attempt():
        tries.append(1)
        return http_fetch(flaky_server, timeout=0.5)

    status, _, body = wait_until(attempt, what="an answer")
    assert (status, body) == (200, "ok")
    assert len(tries) == 3  # a timeout and a connection cut short were tried again


@database
def test_it_accepts_a_totp_code_however_long_the_machine_takes_to_check_it(
    alice_account, monkeypatch
):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    totp = TOTP.activate(alice_account, secret)
    code = totp_code(secret)
    later = time.time() + 45  # the machine stalls past the end of the code's window
    monkeypatch.setattr(time, "time", lambda: later)
    assert totp.validate_code(code)


@database
def test_it_gives_the_next_totp_code_once_this_windows_was_used(alice_account):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    totp = TOTP.activate(alice_account, secret)
    used: set[str] = set()
    first, second = totp_code(secret, used), totp_code(secret, used)
    assert first != second
    assert totp.validate_code(second)


@database
def test_it_keeps_a_tests_requests_in_one_rate_limit_window_however_slow(
    client, settings, monkeypatch
):
    settings.CONTACT_RATE_LIMIT = 1
    form = {"kind": "general", "website": "", **PERSONAS["alice"]}
    assert client.post("/contact/", form).status_code == 303
    # A window boundary passes before the second request (the first one's count is
    # still in the cache: it is kept for a whole window).
    window = settings.CONTACT_RATE_WINDOW_SECONDS
    later = (time.time() // window + 1) * window + 0.001
    monkeypatch.setattr(time, "time", lambda: later)
    another = {**form, "message": "A second question."}  # not a repeat of the first
    assert client.post("/contact/", another).status_code == 429


def test_it_judges_a_property_by_its_result_not_by_its_speed():
    checked = []

    @hypothesis_settings(max_examples=3, database=None)
    @given(st.integers())
    def slow_property(number):
        time.sleep(0.3)  # a slow example: more than hypothesis's default 200 ms deadline
        checked.append(number)

    slow_property()  # under a deadline: DeadlineExceeded
    assert len(checked) >= 3


def test_it_stops_waiting_at_once_when_the_process_it_waits_for_died():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    with pytest.raises(pytest.fail.Exception, match="exited"):
        wait_until(lambda: False, what="something the process would do", processes=[process])
