"""Benchmark of customer support: the staff inbox over 100,000 tickets, and one ticket's
thread of 200 messages decrypted and drawn.

Run from the repository root:

    .venv/bin/python bench/support.py                     # 100,000 tickets, 30 runs
    .venv/bin/python bench/support.py --tickets 20000 --runs 10
    .venv/bin/python bench/support.py --keep              # reuse the data set of a former run

The data lives in var/bench-support-<N>/ (SQLite), never in the developer's var/;
DATABASE_URL / KEYS_DATABASE_URL are honoured (then the databases must be empty, or pass
--keep). Rows are written once with the harness's RowWriter (the values `save()` would
store: name, address, subject line and message encrypted under each person's own key):

- tickets (`contact.Inquiry`), four per person, received over the last 24 months: eight
  in ten general questions (the support queue), the rest privacy requests and complaints
  (the DPO's queue); those older than 45 days closed, save three in a hundred still
  open, recent ones received, answered or closed; most handled by one of six support
  agents or two DPOs, the rest by nobody yet;
- one more ticket, answered, with a thread of 200 messages (the person's emails and
  replies on the site, answers, logged calls and chats; a file with one email in
  twenty) and 20 internal notes.

Measured, in the same process, alternating which path goes first:
- the inbox page: GET /staff/support/ through Django's test client, signed in as a
  support agent with a second factor (middleware, role check, filter form, paginator
  count, the page's rows, the template), on the first page and on the last, with the
  default filter (open tickets) and with "all"; against replaying, on a raw cursor,
  every SQL statement that request sent (captured once beforehand): what the database
  alone costs for the page;
- the thread: `support.selectors.thread_of(inquiry, for_staff=True)` and drawing
  `support/_thread.html` with it, the ticket read afresh and the key cache emptied before
  every run; against reading the same rows on a raw cursor and decrypting the same
  ciphertexts with AES-GCM by hand (the person's key unwrapped by hand too): what the
  ORM, the vault's fields and the template add to the work that cannot be avoided.
Targets (p95): an inbox page under 100 ms, the thread under 200 ms, on SQLite and on
PostgreSQL at 100,000 tickets.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connections
from django.utils import timezone
from harness import (
    Result,
    Rows,
    alternating,
    analyze,
    batches,
    captured,
    db_uuid,
    describe_run,
    median_p95,
    parse_args,
    print_table,
    raw_decrypt,
    raw_key,
    replay,
    staff_client,
    staff_member,
    start,
)

DEFAULT_TICKETS = 100_000
TICKETS_PER_PERSON = 4
RUNS = 30
BATCH = 500  # people per transaction
INBOX_TARGET_MS = 100.0
THREAD_TARGET_MS = 200.0
THREAD_MESSAGES = 200
THREAD_NOTES = 20
FILE_EVERY = 20  # one email in twenty brings a file
URL = "/staff/support/"
AGENT = "bench-agent"  # the support agent who opens the pages
AGENTS = [AGENT, *(f"bench-agent-{n}" for n in range(2, 7))]
DPOS = ["bench-dpo-1", "bench-dpo-2"]
ENTRY = re.compile(r'data-inquiry="([0-9a-f-]{36})"')

SENTENCES = [
    "I ordered the annual plan on the 3rd and was charged twice.",
    "Could you tell me when the refund will reach my card?",
    "The invoice shows the wrong company name and VAT number.",
    "I tried to change my delivery address but the page kept failing.",
    "Thank you for the quick answer, that solved most of it.",
    "There is still one thing: the second charge has not been reversed yet.",
    "Attached is the bank statement showing both payments.",
    "We checked with our payment provider and the duplicate charge is cancelled.",
    "It can take five working days to appear on your statement.",
    "Please let us know if anything else looks wrong on your account.",
    "I called this morning and spoke to someone who promised a callback.",
    "Chat: the person asked whether the discount code still applies after renewal.",
]


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(rng.choice(SENTENCES) for _ in range(sentences))


def text(rng: random.Random) -> str:
    """A message of one to four paragraphs (about 80 to 1,000 characters)."""
    return "\n\n".join(paragraph(rng, rng.randint(1, 4)) for _ in range(rng.randint(1, 4)))


def staff_ids() -> tuple[list[Any], list[Any]]:
    """The support agents' and the DPOs' account ids (the accounts made once)."""
    agents = [staff_member(name, role="support_agent").pk for name in AGENTS]
    dpos = [staff_member(name, role="dpo").pk for name in DPOS]
    return agents, dpos


def ticket_values(rng: random.Random, subject_id: uuid.UUID, now: Any, staff: Any) -> dict:
    """One ticket's columns, as the module docstring describes them."""
    agents, dpos = staff
    draw = rng.random()
    kind = "general" if draw < 0.8 else "privacy" if draw < 0.9 else "complaint"
    queue = "support" if kind == "general" else "dpo"
    received = now - timedelta(days=rng.uniform(0, 730))
    old = now - received > timedelta(days=45)
    if old:
        status = "closed" if rng.random() >= 0.03 else rng.choice(["received", "answered"])
    else:
        status = rng.choice(["received", "received", "answered", "answered", "closed"])
    handled = {"received": 0.5, "answered": 1.0, "closed": 0.95}[status]
    assignee = (
        rng.choice(agents if queue == "support" else dpos) if rng.random() < handled else None
    )
    assigned_at = received + timedelta(hours=rng.uniform(0.1, 24)) if assignee else None
    closed_at = received + timedelta(days=rng.uniform(1, 45)) if status == "closed" else None
    return {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "subject": subject_id,
        "kind": kind,
        "status": status,
        "queue": queue,
        "name": "Bench Person",
        "email": f"person{subject_id.hex[:12]}@example.org",
        "subject_line": rng.choice(["Charged twice", "Wrong invoice", "My order", "Refund"]),
        "message": text(rng),
        "assigned_to": assignee,
        "assigned_at": assigned_at,
        "closed_at": min(closed_at, now) if closed_at else None,
        "created_at": received,
        "updated_at": closed_at or assigned_at or received,
    }


def thread_rows(rows: Rows, rng: random.Random, now: Any, staff: Any) -> None:
    """The answered ticket with THREAD_MESSAGES messages, their files and the notes."""
    from qualipact.contact.models import Inquiry
    from qualipact.support.models import Attachment, InternalNote, TicketMessage

    agents, _ = staff
    subject_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    key = rows.subject(subject_id)
    started = now - timedelta(days=20)
    ticket = ticket_values(rng, subject_id, now, staff)
    ticket.update(kind="general", queue="support", status="answered", created_at=started)
    ticket.update(assigned_to=agents[0], assigned_at=started, closed_at=None, updated_at=now)
    rows.add(Inquiry, ticket, key)
    kinds = ["email_in", "answer", "site_in", "answer", "email_in", "phone", "answer", "chat"]
    step = timedelta(days=19) / (THREAD_MESSAGES + THREAD_NOTES)
    at = started
    for n in range(THREAD_MESSAGES):
        at += step
        kind = kinds[n % len(kinds)]
        message_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        staff_kind = kind not in ("email_in", "site_in")
        rows.add(
            TicketMessage,
            {
                "id": message_id,
                "inquiry": ticket["id"],
                "subject": subject_id,
                "kind": kind,
                "author": rng.choice(agents) if staff_kind else None,
                "body": text(rng),
                # One email in fifty from another address than the ticket's.
                "sender_matches": (n % 50 != 0) if kind == "email_in" else None,
                "email_id_hash": uuid.uuid4().hex * 2 if kind == "email_in" else None,
                "created_at": at,
            },
            key,
        )
        if kind == "email_in" and n % FILE_EVERY == 0:
            rows.add(
                Attachment,
                {
                    "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                    "message": message_id,
                    "subject": subject_id,
                    "filename": f"statement-{n}.pdf",
                    "content_type": "application/pdf",
                    "size": 48_213,
                    "content": "JVBERi0xLjcK" * 8,  # the start of a PDF, in base64
                    "created_at": at,
                },
                key,
            )
        if n % (THREAD_MESSAGES // THREAD_NOTES) == 0:
            at += step
            rows.add(
                InternalNote,
                {
                    "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                    "inquiry": ticket["id"],
                    "subject": subject_id,
                    "author": rng.choice(agents),
                    "body": "Checked with billing: " + paragraph(rng, 2),
                    "created_at": at,
                },
                key,
            )


def create(first: int, stop: int, *, tickets: int, seed: int) -> str:
    """People `first` to `stop - 1`: person 0 has the ticket with the long thread (made
    with the staff accounts), each other person up to TICKETS_PER_PERSON tickets."""
    from qualipact.contact.models import Inquiry

    rng = random.Random(seed + first)
    now = timezone.now()
    staff = staff_ids()
    made = 0
    for indexes in batches(first, stop, BATCH, desc="people"):
        rows = Rows()
        for index in indexes:
            if index == 0:
                thread_rows(rows, rng, now, staff)
                continue
            subject_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            key = rows.subject(subject_id)
            start = (index - 1) * TICKETS_PER_PERSON
            for _ in range(start, min(start + TICKETS_PER_PERSON, tickets)):
                rows.add(Inquiry, ticket_values(rng, subject_id, now, staff), key)
                made += 1
        rows.flush()
    analyze(vacuum=True)  # the inbox reads its pages from an index alone
    return f"{made:,} tickets, {len(AGENTS)} support agents and {len(DPOS)} DPOs"


# -- the inbox ------------------------------------------------------------------------


def inbox_expected(*, status: str, page: int) -> tuple[int, list[uuid.UUID]]:
    """The support queue's count and the ids of page `page` (50 a page), by hand."""
    from qualipact.contact.selectors import INBOX_PAGE_SIZE

    where = "queue = 'support'" + (" AND status <> 'closed'" if status == "open" else "")
    with connections["default"].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM contact_inquiry WHERE {where}")
        count = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT id FROM contact_inquiry WHERE {where} "
            "ORDER BY created_at DESC, id ASC LIMIT %s OFFSET %s",
            [INBOX_PAGE_SIZE, (page - 1) * INBOX_PAGE_SIZE],
        )
        ids = [uuid.UUID(str(row[0])) for row in cursor.fetchall()]
    return count, ids


def last_page(status: str) -> int:
    from qualipact.contact.selectors import INBOX_PAGE_SIZE

    count, _ = inbox_expected(status=status, page=1)
    return max(1, -(-count // INBOX_PAGE_SIZE))


def inbox_check(content: str, *, status: str, page: int) -> None:
    """The page lists the rows and the count the hand-written SQL finds; exit if not."""
    count, expected = inbox_expected(status=status, page=page)
    listed = [uuid.UUID(found) for found in ENTRY.findall(content)]
    if listed != expected or f"Newest first; {count} message" not in content:
        raise SystemExit(f"the inbox page {page} ({status}) lists other tickets than SQL finds")


# -- the thread -----------------------------------------------------------------------


def thread_inquiry_id() -> uuid.UUID:
    from qualipact.support.models import TicketMessage

    found = TicketMessage.objects.values_list("inquiry_id", flat=True).first()
    if found is None:
        raise SystemExit("No ticket with a thread: run without --keep.")
    return found


def thread_drawn(inquiry_id: uuid.UUID, *, render: bool = True) -> str:
    """The library: the ticket read afresh, its thread for staff, drawn."""
    from django.template.loader import render_to_string

    from qualipact.contact.models import Inquiry
    from qualipact.support.selectors import thread_of

    inquiry = Inquiry.objects.get(pk=inquiry_id)
    thread = thread_of(inquiry=inquiry, for_staff=True)
    if not render:
        return str(len(thread))
    return render_to_string("support/_thread.html", {"thread": thread})


def thread_raw(inquiry_id: uuid.UUID, *, decrypt: bool = True) -> list[Any]:
    """Raw SQL: the same rows (the opening message, the messages with their author, the
    files' names, the notes), the key unwrapped and every ciphertext opened by hand;
    without `decrypt`, the rows only."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT subject_id, message, created_at FROM contact_inquiry WHERE id = %s",
            [db_uuid("default", inquiry_id)],
        )
        subject, opening, _ = cursor.fetchone()
        main_id = db_uuid("default", inquiry_id)
        cursor.execute(
            "SELECT m.id, m.kind, m.body, m.created_at, m.sender_matches, u.username "
            "FROM support_ticketmessage m LEFT JOIN accounts_user u ON u.id = m.author_id "
            "WHERE m.inquiry_id = %s ORDER BY m.created_at",
            [main_id],
        )
        messages = cursor.fetchall()
        cursor.execute(
            "SELECT a.message_id, a.filename, a.content_type, a.size FROM support_attachment a "
            "JOIN support_ticketmessage m ON m.id = a.message_id WHERE m.inquiry_id = %s "
            "ORDER BY a.created_at",
            [main_id],
        )
        files = cursor.fetchall()
        cursor.execute(
            "SELECT n.body, n.created_at, u.username FROM support_internalnote n "
            "LEFT JOIN accounts_user u ON u.id = n.author_id "
            "WHERE n.inquiry_id = %s ORDER BY n.created_at",
            [main_id],
        )
        notes = cursor.fetchall()
    if not decrypt:
        return [opening, *messages, *files, *notes]
    subject_id = uuid.UUID(str(subject))
    aead = AESGCM(raw_key(subject_id))

    def opened(table: str, column: str, value: Any) -> str:
        return raw_decrypt(aead, table=table, column=column, subject_id=subject_id, value=value)

    return [
        opened("contact_inquiry", "message", opening),
        *(opened("support_ticketmessage", "body", row[2]) for row in messages),
        *(opened("support_internalnote", "body", row[0]) for row in notes),
        *(opened("support_attachment", "filename", row[1]) for row in files),
    ]


def thread_check(inquiry_id: uuid.UUID) -> str:
    """thread_of shows what raw SQL decrypts, and the template draws every entry."""
    from qualipact.contact.models import Inquiry
    from qualipact.support.selectors import thread_of

    thread = thread_of(inquiry=Inquiry.objects.get(pk=inquiry_id), for_staff=True)
    library = [entry.body for entry in thread] + [f.filename for e in thread for f in e.files]
    raw = thread_raw(inquiry_id)
    drawn = thread_drawn(inquiry_id).count('<li class="thread-entry')
    if sorted(library) != sorted(raw) or drawn != len(thread):
        raise SystemExit("thread_of shows other texts than raw SQL decrypts")
    notes = sum(entry.internal for entry in thread)
    files = sum(len(entry.files) for entry in thread)
    return (
        f"verified: raw SQL decrypts the same {len(thread)} entries as thread_of "
        f"(the opening message, {len(thread) - notes - 1} messages, {notes} notes) and "
        f"{files} file names; the template draws all {drawn}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        argv, description=__doc__ or "", default=DEFAULT_TICKETS, size="tickets", runs=RUNS
    )
    people = -(-args.tickets // TICKETS_PER_PERSON) + 1  # and the one with the thread
    start(
        f"bench-support-{args.tickets}",
        args,
        subjects=people,
        create=lambda first, stop: create(first, stop, tickets=args.tickets, seed=args.seed),
    )
    from qualipact.privacy import vault

    client = staff_client(AGENT, role="support_agent")
    results: list[Result] = []
    statements = {}
    for status in ("open", "all"):
        for page in (1, last_page(status)):
            query = f"?status={status}&page={page}" if status == "all" else f"?page={page}"

            def inbox(query: str = query) -> str:
                response = client.get(URL + query, secure=True)
                assert response.status_code == 200, response.status_code
                return response.content.decode()

            for _ in range(3):  # warm: templates, the session, the query plans
                inbox()
            inbox_check(inbox(), status=status, page=page)
            sql = captured(inbox)
            statements[f"{status} {page}"] = len(sql)
            page_s, raw_s = alternating(
                inbox, lambda sql=sql: replay(sql), runs=args.runs, desc=f"inbox {status} {page}"
            )
            which = "first page" if page == 1 else f"last page ({page})"
            shown = "open (default)" if status == "open" else "all"
            results.append(
                Result(
                    f"inbox, {shown}, {which} vs its SQL replayed",
                    [s * 1000 for s in page_s],
                    [s * 1000 for s in raw_s],
                )
            )
    print("verified: each inbox page lists the tickets and the count hand-written SQL finds")

    inquiry_id = thread_inquiry_id()
    print(thread_check(inquiry_id))
    for _ in range(3):
        thread_drawn(inquiry_id)
        thread_raw(inquiry_id)
    drawn_s, raw_s = alternating(
        lambda: thread_drawn(inquiry_id),
        lambda: thread_raw(inquiry_id),
        runs=args.runs,
        setup=vault.key_cache_clear,
        desc="thread",
    )
    selector_s, selector_raw_s = alternating(
        lambda: thread_drawn(inquiry_id, render=False),
        lambda: thread_raw(inquiry_id),
        runs=args.runs,
        setup=vault.key_cache_clear,
        desc="thread_of",
    )
    read_only_ms = []
    for _ in range(args.runs):
        started = time.perf_counter()
        thread_raw(inquiry_id, decrypt=False)
        read_only_ms.append((time.perf_counter() - started) * 1000)
    results += [
        Result(
            "thread: thread_of + _thread.html vs raw read + AES-GCM",
            [s * 1000 for s in drawn_s],
            [s * 1000 for s in raw_s],
        ),
        Result(
            "thread: thread_of alone vs raw read + AES-GCM",
            [s * 1000 for s in selector_s],
            [s * 1000 for s in selector_raw_s],
        ),
    ]
    print(
        "\n"
        + describe_run(
            tickets=args.tickets,
            people=people,
            thread_messages=THREAD_MESSAGES,
            thread_notes=THREAD_NOTES,
            runs_per_path=args.runs,
        )
    )
    print(
        "statements per inbox page (all replayed): "
        + ", ".join(f"{name}: {count}" for name, count in statements.items())
    )
    print_table(results)
    read_median, _ = median_p95(read_only_ms)
    print(f"  the thread's rows read on a raw cursor, nothing decrypted: {read_median:.1f} ms")
    print()
    for result in results[:-1]:
        target = THREAD_TARGET_MS if result.operation.startswith("thread") else INBOX_TARGET_MS
        median, p95 = median_p95(result.library_ms)
        verdict = "meets the target" if p95 < target else "MISSES the target"
        name = result.operation.split(" vs ")[0]
        print(
            f"  {name}: median {median:.1f} ms, p95 {p95:.1f} ms "
            f"(target under {target:g} ms): {verdict}"
        )


if __name__ == "__main__":
    main()
